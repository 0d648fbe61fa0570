-- OpenMPI/4.1.4-system: the OS's Open MPI (Debian 12: libopenmpi-dev openmpi-bin,
-- mpicc and mpirun in /usr/bin) as an Lmod module, so that an easyconfig can name it
-- as an EXTERNAL_MODULE dependency (hpcladder-0.1.0-MPI.eb).  A site uses its own
-- OpenMPI/MPICH module instead: edit the dependency's name in the easyconfig.
whatis("Name: OpenMPI (the operating system's, /usr)")
whatis("Version: 4.1.4")
setenv("EBROOTOPENMPI", "/usr")
setenv("EBVERSIONOPENMPI", "4.1.4")
