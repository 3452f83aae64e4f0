#!/usr/bin/env bash
# Regenerates Sources/OnboardONNX/Proto/onnx.pb.swift from the onnx package's onnx.proto. The
# generated code is committed: swift-protobuf's build plugin takes minutes on a fresh machine.
# Needs protoc (apt-get install protobuf-compiler) and the onnx Python package
# (tools/requirements.txt); protoc-gen-swift is built from the swift-protobuf checkout that
# `swift package resolve` made in .build/checkouts, so the generator matches the runtime.
# Usage: tools/generate_onnx_proto.sh [PYTHON]
set -euo pipefail
python=${1:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
checkout="$root/.build/checkouts/swift-protobuf"
[ -d "$checkout" ] || (cd "$root" && swift package resolve)
(cd "$checkout" && swift build -c release --product protoc-gen-swift --scratch-path "$root/.build/protoc-gen-swift" >&2)
plugin="$root/.build/protoc-gen-swift/release/protoc-gen-swift"
proto_dir=$("$python" -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal \
    --swift_out="$root/Sources/OnboardONNX/Proto" -I "$proto_dir" "$proto_dir/onnx.proto"
echo "wrote Sources/OnboardONNX/Proto/onnx.pb.swift from $proto_dir/onnx.proto" >&2
