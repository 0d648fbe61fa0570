# cython: language_level=3
"""The talk's find_num_solutions.pyx with integer variables defined (the
py-cython rung).  Python 3 port: p//2.  One change: a, b, c, n are 64-bit
(the talk's `cdef int` makes a*a overflow for p > 92681); still typed ints,
so the loops compile to plain C."""


def find_num_solutions(int p): # note definition
    cdef long long a, b, c, n   # note definition (the talk: cdef int a,b,c,n)
    n = 0
    # a+b+c=p
    for a in range(1, p // 2):
        for b in range(a, p):

            c = p - a - b

            if (c > 0):
                if (a * a + b * b == c * c):
                    n = n + 1

    return n
