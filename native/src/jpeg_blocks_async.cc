// keepJpegBlocks as async Node-API work (sharp's baton): the options are copied or pinned here on
// the JS thread, KeepJpegBlocks runs on a libuv thread without V8, and the promise settles back
// on the JS thread. src/addon/jpeg-blocks.ts validated every option before the call.
#include <cstdlib>
#include <utility>

#include "jpeg_blocks.h"

namespace pixveil {
namespace {

class KeepJpegBlocksWorker : public Napi::AsyncWorker {
 public:
  KeepJpegBlocksWorker(Napi::Env env, JpegBlocksJob job, Napi::Object jpeg, Napi::Object pixels)
      : Napi::AsyncWorker(env, "pixveil:keepJpegBlocks"),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        // Pinned until the work is done: the job reads their memory from another thread.
        jpegRef_(Napi::Persistent(jpeg)),
        pixelsRef_(Napi::Persistent(pixels)) {}

  ~KeepJpegBlocksWorker() override { std::free(result_.output); }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { KeepJpegBlocks(job_, &result_); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("kept", Napi::Boolean::New(env, result_.kept));
    if (result_.kept) {
      uint8_t* bytes = result_.output;
      result_.output = nullptr;  // the Buffer owns it now
      out.Set("data", Napi::Buffer<uint8_t>::New(env, bytes, result_.outputLength, [](Napi::Env, uint8_t* p) { std::free(p); }));
      out.Set("mcusRewritten", Napi::Number::New(env, static_cast<double>(result_.mcusRewritten)));
      out.Set("mcusTotal", Napi::Number::New(env, static_cast<double>(result_.mcusTotal)));
      out.Set("huffman", Napi::String::New(env, result_.huffman));
    } else {
      out.Set("reason", Napi::String::New(env, result_.declined));
    }
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  JpegBlocksJob job_;
  JpegBlocksResult result_;
  Napi::ObjectReference jpegRef_;
  Napi::ObjectReference pixelsRef_;
};

}  // namespace

Napi::Value KeepJpegBlocksAsync(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Napi::Object o = info[0].As<Napi::Object>();
  Napi::Uint8Array jpeg = o.Get("jpeg").As<Napi::Uint8Array>();
  Napi::Uint8Array pixels = o.Get("pixels").As<Napi::Uint8Array>();
  const Napi::Float64Array regions = o.Get("regions").As<Napi::Float64Array>();
  const Napi::Array markers = o.Get("markers").As<Napi::Array>();
  JpegBlocksJob job{};
  job.jpeg = jpeg.Data();
  job.jpegLength = jpeg.ByteLength();
  job.pixels = pixels.Data();
  job.width = o.Get("width").As<Napi::Number>().Int32Value();
  job.height = o.Get("height").As<Napi::Number>().Int32Value();
  job.channels = o.Get("channels").As<Napi::Number>().Int32Value();
  job.regions.assign(regions.Data(), regions.Data() + regions.ElementLength());
  for (uint32_t i = 0; i < markers.Length(); i++) {
    const Napi::Object m = markers.Get(i).As<Napi::Object>();
    const Napi::Uint8Array payload = m.Get("payload").As<Napi::Uint8Array>();
    job.markers.push_back({m.Get("code").As<Napi::Number>().Int32Value(), std::vector<uint8_t>(payload.Data(), payload.Data() + payload.ByteLength())});
  }
  auto* worker = new KeepJpegBlocksWorker(env, std::move(job), jpeg, pixels);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value JpegBlocksSupport(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  std::string library;
  const bool compiled = JpegBlocksCompiled(&library);
  Napi::Object out = Napi::Object::New(env);
  out.Set("compiled", Napi::Boolean::New(env, compiled));
  out.Set("library", compiled ? Napi::Value(Napi::String::New(env, library)) : env.Null());
  return out;
}

}  // namespace pixveil
