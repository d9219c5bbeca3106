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

// y = layer_norm(x) · gamma + beta over rows of `cols`; one warp per row.
// Mean, then the variance of (x - mean): two passes, as torch does.
template <typename T>
__device__ void layer_norm(const T* x, const T* gamma, const T* beta, T* y,
                           int rows, int cols, float eps) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const T* in = x + (size_t)row * cols;
  T* out = y + (size_t)row * cols;
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
}

// y = silu(x + bias) for x (rows, cols), bias (cols).
template <typename T>
__device__ void bias_silu(const T* x, const T* bias, T* y, size_t n, int cols) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    // Round the biased value to T first, as the unfused ops do.
    float v = to_f(from_f<T>(to_f(x[i]) + to_f(bias[i % cols])));
    y[i] = from_f<T>(v / (1.f + __expf(-v)));
  }
}

// y = (x + bias) + residual for x, residual (rows, cols), bias (cols).
template <typename T>
__device__ void bias_residual(const T* x, const T* bias, const T* residual, T* y,
                              size_t n, int cols) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    float v = to_f(from_f<T>(to_f(x[i]) + to_f(bias[i % cols])));
    y[i] = from_f<T>(v + to_f(residual[i]));
  }
}

// Multi-head self-attention straight from the qkv projection.
// qkv: (batch, tokens, 3, heads, head_dim) without its bias; bias: (3, heads,
// head_dim); q is pre-scaled. out: (batch, q_rows, heads, head_dim), the
// merged-heads layout the output projection reads. Queries are the first
// q_rows tokens. One block per (batch, head); K and V of the head are staged
// in shared memory as f32; each warp takes query rows in turn.
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
  float* q = v + tokens * head_dim;              // warps × head_dim
  float* p = q + warps * head_dim;               // warps × tokens
  const T* base = qkv + (size_t)b * tokens * 3 * embed;
  for (int i = threadIdx.x; i < tokens * head_dim; i += blockDim.x) {
    int t = i / head_dim, d = i % head_dim;
    const T* row = base + (size_t)t * 3 * embed;
    k[t * ks + d] = to_f(from_f<T>(to_f(row[embed + h * head_dim + d]) + to_f(bias[embed + h * head_dim + d])));
    v[i] = to_f(from_f<T>(to_f(row[2 * embed + h * head_dim + d]) +
                          to_f(bias[2 * embed + h * head_dim + d])));
  }
  __syncthreads();
  float* my_q = q + warp * head_dim;
  float* my_p = p + warp * tokens;
  for (int t = warp; t < q_rows; t += warps) {
    const T* row = base + (size_t)t * 3 * embed;
    for (int d = lane; d < head_dim; d += 32)
      my_q[d] = to_f(from_f<T>(to_f(row[h * head_dim + d]) + to_f(bias[h * head_dim + d])));
    __syncwarp();
    float best = -INFINITY;
    for (int j = lane; j < tokens; j += 32) {
      const float* kj = k + j * ks;
      float s = 0.f;
      for (int d = 0; d < head_dim; ++d) s += my_q[d] * kj[d];
      my_p[j] = s;
      best = fmaxf(best, s);
    }
    best = warp_max(best);
    float total = 0.f;
    for (int j = lane; j < tokens; j += 32) {
      float e = __expf(my_p[j] - best);
      my_p[j] = e;
      total += e;
    }
    float scale = 1.f / warp_sum(total);
    __syncwarp();
    T* dst = out + ((size_t)b * q_rows + t) * embed + h * head_dim;
    for (int d = lane; d < head_dim; d += 32) {
      float acc = 0.f;
      for (int j = 0; j < tokens; ++j) acc += my_p[j] * v[j * head_dim + d];
      dst[d] = from_f<T>(acc * scale);
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
                                                size_t n, int cols) {                 \
    bias_silu<T>(x, bias, y, n, cols);                                                \
  }                                                                                   \
  extern "C" __global__ void bias_residual_##SUFFIX(const T* x, const T* bias,        \
                                                    const T* r, T* y, size_t n,       \
                                                    int cols) {                       \
    bias_residual<T>(x, bias, r, y, n, cols);                                         \
  }                                                                                   \
  extern "C" __global__ void attention_##SUFFIX(const T* qkv, const T* bias, T* out,  \
                                                int tokens, int heads, int head_dim,  \
                                                int q_rows) {                         \
    attention<T>(qkv, bias, out, tokens, heads, head_dim, q_rows);                    \
  }

INSTANTIATE(float, f32)
INSTANTIATE(__half, f16)
INSTANTIATE(__nv_bfloat16, bf16)
