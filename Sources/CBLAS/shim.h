#ifndef ONBOARD_CBLAS_SHIM_H
#define ONBOARD_CBLAS_SHIM_H
#include <cblas.h>

/* LAPACK routines that OpenBLAS exports (Fortran calling convention). */
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info);
#endif
