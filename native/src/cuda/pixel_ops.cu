// CUDA kernels for the blur stage, with the CPU version's integer arithmetic so the outputs
// match bit for bit. Host wrappers copy in, run, and copy back; every CUDA error
// becomes a false return with a message, never an exception.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda/pixel_ops.h"

namespace pixveil {
namespace cuda {
namespace {

struct DeviceBuffer {
  void* ptr = nullptr;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
};

bool Check(cudaError_t status, const char* what, std::string* error) {
  if (status == cudaSuccess) return true;
  *error = std::string(what) + ": " + cudaGetErrorString(status);
  cudaGetLastError();  // clear it so the next call starts clean
  return false;
}

constexpr int kThreads = 256;
inline int Blocks(size_t n) { return static_cast<int>((n + kThreads - 1) / kThreads); }

__global__ void LoadRegion(const uint8_t* image, int width, int channels, Rect rect, uint16_t* out) {
  const int w = rect.x1 - rect.x0;
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(w) * (rect.y1 - rect.y0)) return;
  const int x = static_cast<int>(i % w), y = static_cast<int>(i / w);
  const uint8_t* p = image + (static_cast<size_t>(rect.y0 + y) * width + rect.x0 + x) * channels;
  for (int c = 0; c < 3; c++) out[i * 3 + c] = static_cast<uint16_t>(p[c] << kFixedShift);
}

// Regions blurred at 1/f size (DecimationFor, blur.h): one thread per low-resolution pixel sums its
// f × f block, as the CPU's LoadBlockMeans.
__global__ void LoadBlockMeans(const uint8_t* image, int width, int channels, Rect rect, int f, int lw, int lh, uint16_t* out) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(lw) * lh) return;
  const int w = rect.x1 - rect.x0, h = rect.y1 - rect.y0;
  const int bx = static_cast<int>(i % lw), by = static_cast<int>(i / lw);
  const int x1 = min(w, (bx + 1) * f), y1 = min(h, (by + 1) * f);
  uint64_t sum[3] = {0, 0, 0};
  for (int y = by * f; y < y1; y++) {
    const uint8_t* p = image + (static_cast<size_t>(rect.y0 + y) * width + rect.x0) * channels;
    for (int x = bx * f; x < x1; x++) {
      for (int c = 0; c < 3; c++) sum[c] += p[x * channels + c];
    }
  }
  const uint64_t count = static_cast<uint64_t>(y1 - by * f) * (x1 - bx * f);
  for (int c = 0; c < 3; c++) out[i * 3 + c] = BlockMeanFixed(sum[c], count);
}

// The blurred low-resolution region scaled back up to w × h in 8.8 fixed point, as the CPU's UpsampleInto.
__global__ void Upsample(const uint16_t* low, int lw, int lh, int f, int w, int h, uint16_t* out) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(w) * h) return;
  int x0, x1, y0, y1;
  double tx, ty;
  BilinearTaps(static_cast<int>(i % w), f, lw, &x0, &x1, &tx);
  BilinearTaps(static_cast<int>(i / w), f, lh, &y0, &y1, &ty);
  const uint16_t* r0 = low + static_cast<size_t>(y0) * lw * 3;
  const uint16_t* r1 = low + static_cast<size_t>(y1) * lw * 3;
  for (int c = 0; c < 3; c++) {
    out[i * 3 + c] = LerpYFixed(LerpX(r0[x0 * 3 + c], r0[x1 * 3 + c], tx), LerpX(r1[x0 * 3 + c], r1[x1 * 3 + c], tx), ty);
  }
}

// One thread per (row, channel) runs the same running sum as the CPU's HorizontalPass.
__global__ void HorizontalPass(const uint16_t* src, uint16_t* dst, int w, int h, int radius) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= h * 3) return;
  const uint16_t* row = src + static_cast<size_t>(t / 3) * w * 3 + t % 3;
  uint16_t* out = dst + static_cast<size_t>(t / 3) * w * 3 + t % 3;
  const uint32_t window = 2 * radius + 1, half = window / 2;
  uint32_t s = 0;
  for (int i = -radius; i <= radius; i++) s += row[ClampIndex(i, w) * 3];
  for (int x = 0; x < w; x++) {
    out[x * 3] = static_cast<uint16_t>((s + half) / window);
    s = s + row[ClampIndex(x + radius + 1, w) * 3] - row[ClampIndex(x - radius, w) * 3];
  }
}

// One thread per column sample; neighbouring threads read neighbouring bytes (coalesced).
__global__ void VerticalPass(const uint16_t* src, uint16_t* dst, int w, int h, int radius) {
  const size_t stride = static_cast<size_t>(w) * 3;
  const size_t k = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (k >= stride) return;
  const uint32_t window = 2 * radius + 1, half = window / 2;
  uint32_t s = 0;
  for (int i = -radius; i <= radius; i++) s += src[ClampIndex(i, h) * stride + k];
  for (int y = 0; y < h; y++) {
    dst[y * stride + k] = static_cast<uint16_t>((s + half) / window);
    s = s + src[ClampIndex(y + radius + 1, h) * stride + k] - src[ClampIndex(y - radius, h) * stride + k];
  }
}

__global__ void BlockMeans(const uint8_t* image, int width, int channels, Rect rect, int block, int blocksX, int blocksY, uint8_t* means) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= blocksX * blocksY * 3) return;
  const int c = t % 3, b = t / 3;
  const int w = rect.x1 - rect.x0, h = rect.y1 - rect.y0;
  const int bx = (b % blocksX) * block, by = (b / blocksX) * block;
  const int ex = min(w, bx + block), ey = min(h, by + block);
  uint64_t sum = 0;
  for (int y = by; y < ey; y++) {
    const uint8_t* p = image + (static_cast<size_t>(rect.y0 + y) * width + rect.x0) * channels + c;
    for (int x = bx; x < ex; x++) sum += p[x * channels];
  }
  const uint64_t count = static_cast<uint64_t>(ey - by) * (ex - bx);
  means[t] = static_cast<uint8_t>((2 * sum + count) / (2 * count));
}

// Writes the anonymized region back through the mask; alpha is never touched.
__global__ void WriteBack(uint8_t* image, int width, int channels, Rect rect, bool ellipse, BlurStyle style, const uint16_t* blurred,
                          const uint8_t* means, int block, int blocksX) {
  const int w = rect.x1 - rect.x0;
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(w) * (rect.y1 - rect.y0)) return;
  const int x = static_cast<int>(i % w), y = static_cast<int>(i / w);
  if (ellipse && !InsideEllipse(rect, rect.x0 + x, rect.y0 + y)) return;
  uint8_t* p = image + (static_cast<size_t>(rect.y0 + y) * width + rect.x0 + x) * channels;
  for (int c = 0; c < 3; c++) {
    if (style == BlurStyle::Gaussian) {
      p[c] = static_cast<uint8_t>((blurred[i * 3 + c] + (1u << (kFixedShift - 1))) >> kFixedShift);
    } else if (style == BlurStyle::Pixelate) {
      p[c] = means[((y / block) * blocksX + x / block) * 3 + c];
    } else {
      p[c] = 0;
    }
  }
}

}  // namespace

int DeviceCount(std::string* error) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (error) *error = cudaGetErrorString(status);
    cudaGetLastError();
    return 0;
  }
  if (count == 0 && error) *error = "no CUDA device is visible";
  return count;
}

bool BlurRegions(const BlurJob& job, std::string* error) {
  const size_t bytes = static_cast<size_t>(job.width) * job.height * job.channels;
  size_t maxPixels = 0;
  for (size_t i = 0; i < job.regionCount; i++) {
    Rect rect;
    if (ClipRegion(job.regions + i * 4, job.width, job.height, &rect)) {
      maxPixels = std::max(maxPixels, static_cast<size_t>(rect.x1 - rect.x0) * (rect.y1 - rect.y0));
    }
  }
  if (maxPixels == 0) return true;
  DeviceBuffer image, a, b, means;
  if (!Check(cudaMalloc(&image.ptr, bytes), "cudaMalloc(image)", error)) return false;
  if (!Check(cudaMalloc(&a.ptr, maxPixels * 3 * sizeof(uint16_t)), "cudaMalloc(a)", error)) return false;
  if (!Check(cudaMalloc(&b.ptr, maxPixels * 3 * sizeof(uint16_t)), "cudaMalloc(b)", error)) return false;
  // Blocks are at least max(w, h) / 8 wide, so a region never has more than 9 × 9 of them.
  if (!Check(cudaMalloc(&means.ptr, 9 * 9 * 3), "cudaMalloc(means)", error)) return false;
  if (!Check(cudaMemcpy(image.ptr, job.data, bytes, cudaMemcpyHostToDevice), "cudaMemcpy(to device)", error)) return false;
  for (size_t i = 0; i < job.regionCount; i++) {
    Rect rect;
    if (!ClipRegion(job.regions + i * 4, job.width, job.height, &rect)) continue;
    const int w = rect.x1 - rect.x0, h = rect.y1 - rect.y0;
    const size_t pixels = static_cast<size_t>(w) * h;
    int block = 1, blocksX = 0;
    const uint16_t* blurred = a.as<uint16_t>();
    if (job.style == BlurStyle::Gaussian) {
      const int radius = BlurRadiusFor(w, h);
      const int f = DecimationFor(radius);
      const int lw = (w + f - 1) / f, lh = (h + f - 1) / f;
      const int lowRadius = f > 1 ? static_cast<int>(JsRound(static_cast<double>(radius) / f)) : radius;
      if (f > 1) {
        LoadBlockMeans<<<Blocks(static_cast<size_t>(lw) * lh), kThreads>>>(image.as<uint8_t>(), job.width, job.channels, rect, f, lw, lh, a.as<uint16_t>());
      } else {
        LoadRegion<<<Blocks(pixels), kThreads>>>(image.as<uint8_t>(), job.width, job.channels, rect, a.as<uint16_t>());
      }
      for (int pass = 0; pass < 3; pass++) {
        HorizontalPass<<<Blocks(static_cast<size_t>(lh) * 3), kThreads>>>(a.as<uint16_t>(), b.as<uint16_t>(), lw, lh, lowRadius);
        VerticalPass<<<Blocks(static_cast<size_t>(lw) * 3), kThreads>>>(b.as<uint16_t>(), a.as<uint16_t>(), lw, lh, lowRadius);
      }
      if (f > 1) {
        Upsample<<<Blocks(pixels), kThreads>>>(a.as<uint16_t>(), lw, lh, f, w, h, b.as<uint16_t>());
        blurred = b.as<uint16_t>();
      }
    } else if (job.style == BlurStyle::Pixelate) {
      block = PixelSizeFor(w, h);
      blocksX = (w + block - 1) / block;
      const int blocksY = (h + block - 1) / block;
      BlockMeans<<<Blocks(static_cast<size_t>(blocksX) * blocksY * 3), kThreads>>>(image.as<uint8_t>(), job.width, job.channels, rect, block,
                                                                                   blocksX, blocksY, means.as<uint8_t>());
    }
    WriteBack<<<Blocks(pixels), kThreads>>>(image.as<uint8_t>(), job.width, job.channels, rect, job.shape == BlurShape::Ellipse, job.style,
                                            blurred, means.as<uint8_t>(), block, blocksX);
    if (!Check(cudaGetLastError(), "kernel launch", error)) return false;
  }
  return Check(cudaMemcpy(job.data, image.ptr, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy(to host)", error);
}

}  // namespace cuda
}  // namespace pixveil
