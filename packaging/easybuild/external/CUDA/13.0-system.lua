-- CUDA/13.0-system: a CUDA toolkit installed outside EasyBuild (NVIDIA's installer,
-- /usr/local/cuda) as an Lmod module, so that an easyconfig can name it as an
-- EXTERNAL_MODULE dependency (hpcladder-0.1.0-CUDA.eb).  A site uses its own CUDA
-- module (EasyBuild's CUDA/<version> easyconfig is the usual one) instead.
local root = os.getenv("HPCLADDER_CUDA_ROOT") or "/usr/local/cuda"
whatis("Name: CUDA (" .. root .. ")")
whatis("Version: 13.0")
prepend_path("PATH", pathJoin(root, "bin"))
setenv("CUDA_HOME", root)
setenv("EBROOTCUDA", root)
setenv("EBVERSIONCUDA", "13.0")
