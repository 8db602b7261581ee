#include "nms.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace pixveil {
namespace {

std::vector<int32_t> Suppress(const float* boxes, const float* scores, size_t n, double iouThreshold, const int32_t* classes) {
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Stable, like Array.prototype.sort: equal scores keep index order in both implementations.
  std::stable_sort(order.begin(), order.end(), [scores](int32_t a, int32_t b) { return scores[a] > scores[b]; });
  // Candidates copied in score order, one array per field, so the inner loop reads memory in order
  // and has no branches to mispredict; the arithmetic is the fallback's, in double.
  std::vector<double> x1(n), y1(n), x2(n), y2(n), area(n);
  std::vector<int32_t> cls(n, 0);
  for (size_t k = 0; k < n; k++) {
    const float* b = boxes + static_cast<size_t>(order[k]) * 4;
    x1[k] = b[0];
    y1[k] = b[1];
    x2[k] = b[2];
    y2[k] = b[3];
    area[k] = std::max(0.0, x2[k] - x1[k]) * std::max(0.0, y2[k] - y1[k]);
    if (classes) cls[k] = classes[order[k]];
  }
  std::vector<uint8_t> suppressed(n, 0);
  std::vector<int32_t> keep;
  for (size_t oi = 0; oi < n; oi++) {
    if (suppressed[oi]) continue;
    keep.push_back(order[oi]);
    const double ax1 = x1[oi], ay1 = y1[oi], ax2 = x2[oi], ay2 = y2[oi], areaA = area[oi];
    const int32_t classA = cls[oi];
    for (size_t oj = oi + 1; oj < n; oj++) {
      const double iw = std::min(ax2, x2[oj]) - std::max(ax1, x1[oj]);
      const double ih = std::min(ay2, y2[oj]) - std::max(ay1, y1[oj]);
      const double inter = iw * ih;
      // Disjoint pairs may divide by zero here; the mask discards that result.
      const bool overlaps = (iw > 0) & (ih > 0) & (cls[oj] == classA) & (inter / (areaA + area[oj] - inter) > iouThreshold);
      suppressed[oj] |= static_cast<uint8_t>(overlaps);
    }
  }
  return keep;
}

}  // namespace

Napi::Value Nms(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Napi::Object o = info[0].As<Napi::Object>();
  const Napi::Float32Array boxes = o.Get("boxes").As<Napi::Float32Array>();
  const Napi::Float32Array scores = o.Get("scores").As<Napi::Float32Array>();
  const Napi::Value classes = o.Get("classes");
  const int32_t* classData = classes.IsTypedArray() ? classes.As<Napi::Int32Array>().Data() : nullptr;
  const std::vector<int32_t> keep =
      Suppress(boxes.Data(), scores.Data(), scores.ElementLength(), o.Get("iouThreshold").As<Napi::Number>().DoubleValue(), classData);
  Napi::Int32Array result = Napi::Int32Array::New(env, keep.size());
  std::copy(keep.begin(), keep.end(), result.Data());
  return result;
}

}  // namespace pixveil
