// zerocast GPU library: packed 8-bit RGB -> NV12 (BT.709, limited range)
// in one pass, straight out of the source the frame lives in.
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Compiled by nvcc at build time into a fatbin embedded in the library and
// loaded with cuModuleLoadData (see zc-cuda-converter.c); the entry points
// are extern "C" so cuModuleGetFunction finds them by their plain names.
//
// Two sources, one kernel body:
//  - a pitched pointer: device memory, or host memory registered with
//    cuMemHostRegister and read over PCIe (zero-copy: no staging buffer);
//  - a texture object over the CUarray that an EGLImage maps to.  A texture
//    reads the array in place, so the copy out of the image and the colour
//    conversion are the same pass (no intermediate buffer, no second read).
//
// Each thread converts a 2x2 block: four Y samples and one averaged CbCr
// pair.  Odd sizes repeat the last column/row.  r, g, b are the byte
// positions of the colours in a pixel (BGRx: 2, 1, 0), so one kernel serves
// BGRx/BGRA/RGBx/RGBA/xRGB/ARGB and a red/blue swap is a parameter bug a test
// can see, not a per-format copy of the code.

#include <cuda.h>
#include <cstdint>

namespace {

// BT.709: Y = Kr R + Kg G + Kb B; Cb = (B - Y) / (2 (1 - Kb));
// Cr = (R - Y) / (2 (1 - Kr)).  Limited range scales Y to 16..235 and
// Cb/Cr to 16..240 around 128.
constexpr float kKr = 0.2126f;
constexpr float kKb = 0.0722f;
constexpr float kKg = 1.0f - kKr - kKb;
constexpr float kYScale = 219.0f / 255.0f;
constexpr float kCScale = 224.0f / 255.0f;

struct PitchSource
{
  const unsigned char *base;
  int pitch;

  __device__ uchar4 load (int x, int y) const
  {
    return *reinterpret_cast<const uchar4 *> (base + (size_t) y * pitch + x * 4);
  }
};

struct TextureSource
{
  CUtexObject tex;

  __device__ uchar4 load (int x, int y) const
  {
    // Unnormalised coordinates, point sampling, integer reads: exactly the
    // stored bytes of texel (x, y).
    return tex2D<uchar4> (tex, x + 0.5f, y + 0.5f);
  }
};

__device__ __forceinline__ float
channel (uchar4 v, int i)
{
  return (float) (i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w);
}

__device__ __forceinline__ unsigned char
to_byte (float v)
{
  return (unsigned char) fminf (fmaxf (v + 0.5f, 0.0f), 255.0f);
}

template <typename Source>
__device__ void
convert (const Source src, unsigned char *dst_y, int y_pitch,
    unsigned char *dst_uv, int uv_pitch, int width, int height,
    int r, int g, int b)
{
  const int bx = blockIdx.x * blockDim.x + threadIdx.x;
  const int by = blockIdx.y * blockDim.y + threadIdx.y;
  const int x0 = bx * 2, y0 = by * 2;

  if (x0 >= width || y0 >= height)
    return;

  const int xs[2] = { x0, min (x0 + 1, width - 1) };
  const int ys[2] = { y0, min (y0 + 1, height - 1) };
  float sr = 0.0f, sg = 0.0f, sb = 0.0f;

#pragma unroll
  for (int j = 0; j < 2; j++) {
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const uchar4 px = src.load (xs[i], ys[j]);
      const float pr = channel (px, r), pg = channel (px, g), pb = channel (px, b);
      const float luma = kKr * pr + kKg * pg + kKb * pb;

      // Duplicated edge samples are written twice with the same value.
      if (x0 + i < width && y0 + j < height)
        dst_y[(size_t) (y0 + j) * y_pitch + x0 + i] = to_byte (16.0f + kYScale * luma);
      sr += pr;
      sg += pg;
      sb += pb;
    }
  }

  sr *= 0.25f;
  sg *= 0.25f;
  sb *= 0.25f;
  const float luma = kKr * sr + kKg * sg + kKb * sb;
  const float cb = (sb - luma) / (2.0f * (1.0f - kKb));
  const float cr = (sr - luma) / (2.0f * (1.0f - kKr));
  unsigned char *uv = dst_uv + (size_t) by * uv_pitch + bx * 2;
  uv[0] = to_byte (128.0f + kCScale * cb);
  uv[1] = to_byte (128.0f + kCScale * cr);
}

} // namespace

extern "C" __global__ void
zc_rgb_to_nv12_pitch (const unsigned char *src, int src_pitch,
    unsigned char *dst_y, int y_pitch, unsigned char *dst_uv, int uv_pitch,
    int width, int height, int r, int g, int b)
{
  convert (PitchSource { src, src_pitch }, dst_y, y_pitch, dst_uv, uv_pitch,
      width, height, r, g, b);
}

extern "C" __global__ void
zc_rgb_to_nv12_texture (CUtexObject tex, unsigned char *dst_y, int y_pitch,
    unsigned char *dst_uv, int uv_pitch, int width, int height,
    int r, int g, int b)
{
  convert (TextureSource { tex }, dst_y, y_pitch, dst_uv, uv_pitch,
      width, height, r, g, b);
}

// Packed RGB -> packed RGB with the bytes reordered: out byte i of a pixel
// is in byte perm_i.  For EGL images whose channel order (as CUDA reports
// it) differs from the format asked for downstream, so a copy alone would
// swap colours.
namespace {

template <typename Source>
__device__ void
reorder (const Source src, unsigned char *dst, int dst_pitch, int width,
    int height, int p0, int p1, int p2, int p3)
{
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;

  if (x >= width || y >= height)
    return;

  const uchar4 px = src.load (x, y);
  const uchar4 o = make_uchar4 ((unsigned char) channel (px, p0),
      (unsigned char) channel (px, p1), (unsigned char) channel (px, p2),
      (unsigned char) channel (px, p3));
  *reinterpret_cast<uchar4 *> (dst + (size_t) y * dst_pitch + x * 4) = o;
}

} // namespace

extern "C" __global__ void
zc_rgb_reorder_pitch (const unsigned char *src, int src_pitch,
    unsigned char *dst, int dst_pitch, int width, int height,
    int p0, int p1, int p2, int p3)
{
  reorder (PitchSource { src, src_pitch }, dst, dst_pitch, width, height,
      p0, p1, p2, p3);
}

extern "C" __global__ void
zc_rgb_reorder_texture (CUtexObject tex, unsigned char *dst, int dst_pitch,
    int width, int height, int p0, int p1, int p2, int p3)
{
  reorder (TextureSource { tex }, dst, dst_pitch, width, height,
      p0, p1, p2, p3);
}
