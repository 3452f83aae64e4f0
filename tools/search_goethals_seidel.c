/* Stochastic search for four +-1 sequences of length n whose periodic autocorrelations sum to
 * zero at every nonzero shift (Goethals-Seidel quadruples) -> Hadamard matrix of order 4n.
 * Used once to find the sequences in Sources/OnboardQuant/Transforms/GoethalsSeidel.swift:
 *
 *     cc -O2 tools/search_goethals_seidel.c -o /tmp/gs -lm && /tmp/gs 39 1
 *
 * prints the four sequences as +/- strings (n = 39, seed 1: under a minute here; n = 43,
 * seed 12: a few minutes). */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
static int n;
static int seq[4][64];
static int paf[64]; /* summed PAF for shifts 1..n-1 */
static unsigned long long rs = 88172645463325252ull;
static unsigned long long xr(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static long energy(void){ long e=0; for(int s=1;s<=n/2;s++) e += (long)paf[s]*paf[s]; return e; }
static void recompute(void){ for(int s=0;s<n;s++){ int t=0; for(int x=0;x<4;x++) for(int i=0;i<n;i++) t+=seq[x][i]*seq[x][(i+s)%n]; paf[s]=t; } }
int main(int argc,char**argv){
  n=atoi(argv[1]); rs ^= (unsigned long long)atoi(argv[2])*2654435761ull;
  for(int x=0;x<4;x++) for(int i=0;i<n;i++) seq[x][i]= (xr()&1)?1:-1;
  recompute(); long e=energy(); double T=20.0; long iter=0; long best=e;
  int delta[64];
  while(1){
    int x=xr()%4, i=xr()%n;
    /* flipping seq[x][i] changes paf[s] by -2*seq[x][i]*(seq[x][i+s]+seq[x][i-s]) */
    long ne=0;
    for(int s=1;s<=n/2;s++){
      int d=-2*seq[x][i]*(seq[x][(i+s)%n]+seq[x][(i-s+n)%n]);
      delta[s]=d; long v=paf[s]+d; ne+=v*v; }
    if(ne<=e || exp((e-ne)/T) > (xr()%1000000)/1e6){
      seq[x][i]=-seq[x][i]; for(int s=1;s<=n/2;s++){ paf[s]+=delta[s]; paf[n-s]=paf[s]; } e=ne;
      if(e<best){best=e;}
      if(e==0){ for(int y=0;y<4;y++){ for(int j=0;j<n;j++) putchar(seq[y][j]>0?'+':'-'); putchar('\n'); } fflush(stdout); return 0; }
    }
    iter++;
    T*=0.9999995; if(T<0.5){ T=20.0; }
    if(iter%200000000==0){ fprintf(stderr,"n=%d iter=%ld best=%ld e=%ld\n",n,iter,best,e); best=1L<<60; }
  }
}
