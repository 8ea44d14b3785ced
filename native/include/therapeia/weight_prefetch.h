#pragma once

#include <immintrin.h>

#include <cstdint>

namespace therapeia {

// Software prefetch for the decode kernels' weight streams.
//
// Why: a decode kernel pass reads ROWS weight rows, a contiguous block, as ROWS interleaved short
// streams (a bfloat16 row of 576 weights is 18 cache lines; an 8-bit one 9). The hardware
// prefetcher follows them poorly: one thread streamed float32 at 11-13 GB/s, bfloat16 at 9-10 and
// 8-bit at 5 GB/s from DRAM, although each kernel runs 2-4x faster on weights in L2. Asking for
// the block that lies this far ahead, in memory order, into L2 keeps enough reads in flight:
// 16 KiB measured best (bfloat16 9 -> 20 GB/s and float32 11 -> 18 GB/s on one thread; 4 KiB
// too short, 64 KiB past the gain).
constexpr int64_t kWeightPrefetchBytes = 16 * 1024;

// Prefetches `bytes` (a multiple of 64) of the weights kWeightPrefetchBytes past `offset` bytes
// into a pass's block. Prefetching past the end of the weights is harmless (it never faults).
inline void prefetch_weights(const void* block, int64_t offset, int64_t bytes) {
  const char* p = static_cast<const char*>(block) + kWeightPrefetchBytes + offset;
  for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T1);
}

}  // namespace therapeia
