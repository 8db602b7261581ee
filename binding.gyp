# CPU-only build of the same addon with node-gyp, for machines without cmake:
#   npx node-gyp@12 rebuild    (node-gyp 13 needs Node 22)
# The normal build is cmake-js via scripts/build-native.mjs; both write build/Release/pixveil_native.node.
# JPEG block copying is compiled in when /usr/include/jpeglib.h exists (libjpeg62-turbo-dev); -Dpixveil_jpeg=0 leaves it out.
{
  "variables": {
    "pixveil_jpeg%": "<!(node -p \"require('fs').existsSync('/usr/include/jpeglib.h') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "pixveil_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/blur.cc",
        "native/src/device.cc",
        "native/src/jpeg_blocks_async.cc",
        "native/src/nms.cc",
        "native/src/preprocess.cc",
        "native/src/pyramid.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/src"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-O2"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fvisibility=hidden"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"]
      },
      "conditions": [
        ["pixveil_jpeg==1", { "sources": ["native/src/jpeg_blocks.cc"], "libraries": ["-ljpeg"] }, { "sources": ["native/src/jpeg_blocks_absent.cc"] }]
      ],
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/fp:precise"] }
      }
    }
  ]
}
