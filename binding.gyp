{
  "targets": [
    {
      "target_name": "perpchain_crypto",
      "sources": [
        "state/crypto/native/addon.cc",
        "state/crypto/native/stark.cc",
        "state/crypto/native/curve.cc",
        "state/crypto/native/ecdsa.cc",
        "state/crypto/native/isomorphic-mul.cc"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=c++17"],
      "cflags": ["-O3"],
      "cflags_cc": ["-O3", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-unused-function"],
      "defines": ["NAPI_VERSION=8", "NDEBUG"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"],
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES"
      }
    }
  ]
}
