# cython: language_level=3
"""The talk's find_num_solutions.pyx without variable definitions (the
py-cython-untyped rung): plain Python compiled by Cython, every variable a
Python object.  Python 3 port: p//2."""


def find_num_solutions(p):
    n = 0
    # a+b+c=p
    for a in range(1, p // 2):
        for b in range(a, p):

            c = p - a - b

            if (c > 0):
                if (a * a + b * b == c * c):
                    n = n + 1

    return n
