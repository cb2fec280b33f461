/* bcryptprimitives.dll for Wine 8.0, which lacks it: Rust's standard library (1.78 and later) takes its random
 * bytes from ProcessPrng there. This exports ProcessPrng over advapi32's RtlGenRandom (SystemFunction036), the call
 * Wine does have. Only the test prefix of scripts/test-windows.sh gets it; real Windows has its own. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
