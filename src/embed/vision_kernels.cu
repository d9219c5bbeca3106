// Fused kernels of the CLIP vision tower on CUDA (src/embed/vision_cuda.rs):
// each replaces several candle kernels with one pass over memory. All
// arithmetic is in f32; values are stored in the model's type
// (float, __half or __nv_bfloat16), rounded once per output.
//
// Compiled ahead of time to PTX by build.rs (feature `cuda`).

#include <cuda_fp16.h>
#include <cuda_bf16.h>

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) {
  return __float2bfloat16(v);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
  return v;
}

// Values of one row a lane keeps in registers (rows up to 32 × 32 = 1024
// wide; wider rows take the looping path).
#define LN_PER_LANE 32

// y = layer_norm(x) · gamma + beta over rows of `cols`; one warp per row.
// Mean, then the variance of (x - mean): two passes, as torch does. The row
// is loaded once, all loads in flight together.
template <typename T>
__device__ void layer_norm(const T* x, const T* gamma, const T* beta, T* y,
                           int rows, int cols, float eps) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const T* in = x + (size_t)row * cols;
  T* out = y + (size_t)row * cols;
  if (cols > 32 * LN_PER_LANE) {
    float sum = 0.f;
    for (int c = lane; c < cols; c += 32) sum += to_f(in[c]);
    float mean = warp_sum(sum) / cols;
    float sq = 0.f;
    for (int c = lane; c < cols; c += 32) {
      float d = to_f(in[c]) - mean;
      sq += d * d;
    }
    float inv = rsqrtf(warp_sum(sq) / cols + eps);
    for (int c = lane; c < cols; c += 32)
      out[c] = from_f<T>((to_f(in[c]) - mean) * inv * to_f(gamma[c]) + to_f(beta[c]));
    return;
  }
  float v[LN_PER_LANE];
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < LN_PER_LANE; ++i) {
    int c = lane + 32 * i;
    v[i] = c < cols ? to_f(in[c]) : 0.f;
    sum += v[i];
  }
  float mean = warp_sum(sum) / cols;
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < LN_PER_LANE; ++i) {
    int c = lane + 32 * i;
    float d = c < cols ? v[i] - mean : 0.f;
    sq += d * d;
  }
  float inv = rsqrtf(warp_sum(sq) / cols + eps);
#pragma unroll
  for (int i = 0; i < LN_PER_LANE; ++i) {
    int c = lane + 32 * i;
    if (c < cols) out[c] = from_f<T>((v[i] - mean) * inv * to_f(gamma[c]) + to_f(beta[c]));
  }
}

// Element-wise kernels over (rows, cols) with a per-column bias: blocks
// tile the columns along x and step through the rows along y, so no
// division is needed to find an element's column.

// y = silu(x + bias) for x (rows, cols), bias (cols).
template <typename T>
__device__ void bias_silu(const T* x, const T* bias, T* y, int rows, int cols) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  // Round the biased value to T first, as the unfused ops do.
  float b = to_f(bias[c]);
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    size_t i = (size_t)r * cols + c;
    float v = to_f(from_f<T>(to_f(x[i]) + b));
    y[i] = from_f<T>(v / (1.f + __expf(-v)));
  }
}

// y = (x + bias) + residual for x, residual (rows, cols), bias (cols).
template <typename T>
__device__ void bias_residual(const T* x, const T* bias, const T* residual, T* y, int rows,
                              int cols) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float b = to_f(bias[c]);
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    size_t i = (size_t)r * cols + c;
    float v = to_f(from_f<T>(to_f(x[i]) + b));
    y[i] = from_f<T>(v + to_f(residual[i]));
  }
}

// Multi-head self-attention straight from the qkv projection.
// qkv: (batch, tokens, 3, heads, head_dim) without its bias; bias: (3, heads,
// head_dim); q is pre-scaled. out: (batch, q_rows, heads, head_dim), the
// merged-heads layout the output projection reads. Queries are the first
// q_rows tokens. One block per (batch, head); K and V of the head are staged
// in shared memory as f32; each warp takes query rows in turn, two at a time.
template <typename T>
__device__ void attention(const T* qkv, const T* bias, T* out, int tokens, int heads,
                          int head_dim, int q_rows) {
  extern __shared__ float smem[];
  int b = blockIdx.x / heads, h = blockIdx.x % heads;
  int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int embed = heads * head_dim;
  int ks = head_dim + 1;                         // padded: no bank conflicts
  float* k = smem;                               // tokens × ks
  float* v = k + tokens * ks;                    // tokens × head_dim
  float* q = v + tokens * head_dim;              // warps × 2 × head_dim
  float* p = q + warps * 2 * head_dim;           // warps × 2 × tokens
  const T* base = qkv + (size_t)b * tokens * 3 * embed;
  for (int i = threadIdx.x; i < tokens * head_dim; i += blockDim.x) {
    int t = i / head_dim, d = i % head_dim;
    const T* row = base + (size_t)t * 3 * embed;
    k[t * ks + d] = to_f(from_f<T>(to_f(row[embed + h * head_dim + d]) + to_f(bias[embed + h * head_dim + d])));
    v[i] = to_f(from_f<T>(to_f(row[2 * embed + h * head_dim + d]) +
                          to_f(bias[2 * embed + h * head_dim + d])));
  }
  __syncthreads();
  // Each warp takes two query rows at a time, so every K and V value read
  // from shared memory serves two rows.
  float* q0 = q + warp * 2 * head_dim;
  float* q1 = q0 + head_dim;
  float* p0 = p + warp * 2 * tokens;
  float* p1 = p0 + tokens;
  for (int t = 2 * warp; t < q_rows; t += 2 * warps) {
    int t1 = t + 1 < q_rows ? t + 1 : t;
    const T* row0 = base + (size_t)t * 3 * embed;
    const T* row1 = base + (size_t)t1 * 3 * embed;
    for (int d = lane; d < head_dim; d += 32) {
      float bq = to_f(bias[h * head_dim + d]);
      q0[d] = to_f(from_f<T>(to_f(row0[h * head_dim + d]) + bq));
      q1[d] = to_f(from_f<T>(to_f(row1[h * head_dim + d]) + bq));
    }
    __syncwarp();
    float best0 = -INFINITY, best1 = -INFINITY;
    for (int j = lane; j < tokens; j += 32) {
      const float* kj = k + j * ks;
      float s0 = 0.f, s1 = 0.f;
      for (int d = 0; d < head_dim; ++d) {
        float kd = kj[d];
        s0 += q0[d] * kd;
        s1 += q1[d] * kd;
      }
      p0[j] = s0;
      p1[j] = s1;
      best0 = fmaxf(best0, s0);
      best1 = fmaxf(best1, s1);
    }
    best0 = warp_max(best0);
    best1 = warp_max(best1);
    float total0 = 0.f, total1 = 0.f;
    for (int j = lane; j < tokens; j += 32) {
      float e0 = __expf(p0[j] - best0), e1 = __expf(p1[j] - best1);
      p0[j] = e0;
      p1[j] = e1;
      total0 += e0;
      total1 += e1;
    }
    float scale0 = 1.f / warp_sum(total0), scale1 = 1.f / warp_sum(total1);
    __syncwarp();
    T* dst0 = out + ((size_t)b * q_rows + t) * embed + h * head_dim;
    T* dst1 = out + ((size_t)b * q_rows + t1) * embed + h * head_dim;
    for (int d = lane; d < head_dim; d += 32) {
      float acc0 = 0.f, acc1 = 0.f;
      for (int j = 0; j < tokens; ++j) {
        float vj = v[j * head_dim + d];
        acc0 += p0[j] * vj;
        acc1 += p1[j] * vj;
      }
      dst0[d] = from_f<T>(acc0 * scale0);
      if (t1 != t) dst1[d] = from_f<T>(acc1 * scale1);
    }
    __syncwarp();
  }
}

#define INSTANTIATE(T, SUFFIX)                                                        \
  extern "C" __global__ void layer_norm_##SUFFIX(const T* x, const T* g, const T* b,  \
                                                 T* y, int rows, int cols, float eps) { \
    layer_norm<T>(x, g, b, y, rows, cols, eps);                                       \
  }                                                                                   \
  extern "C" __global__ void bias_silu_##SUFFIX(const T* x, const T* bias, T* y,      \
                                                int rows, int cols) {                 \
    bias_silu<T>(x, bias, y, rows, cols);                                             \
  }                                                                                   \
  extern "C" __global__ void bias_residual_##SUFFIX(const T* x, const T* bias,        \
                                                    const T* r, T* y, int rows,       \
                                                    int cols) {                       \
    bias_residual<T>(x, bias, r, y, rows, cols);                                      \
  }                                                                                   \
  extern "C" __global__ void attention_##SUFFIX(const T* qkv, const T* bias, T* out,  \
                                                int tokens, int heads, int head_dim,  \
                                                int q_rows) {                         \
    attention<T>(qkv, bias, out, tokens, heads, head_dim, q_rows);                    \
  }

INSTANTIATE(float, f32)
INSTANTIATE(__half, f16)
INSTANTIATE(__nv_bfloat16, bf16)
