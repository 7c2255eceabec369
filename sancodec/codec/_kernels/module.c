/* The CPython module init: exists only so setuptools builds the library and Python can locate it
 * (kernels.py loads it with ctypes). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "sancodec's compiled kernels (use via ctypes)",
                                    -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }

