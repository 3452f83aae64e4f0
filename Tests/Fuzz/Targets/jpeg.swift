import OnboardSensors

/// The libjpeg-turbo wrapper: header size, then a decode at a scale and channel order picked by the
/// input's length (so a corpus covers all eight DCT scales and both orders).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard (try? JPEGCodec.size(of: bytes, path: "input.jpg")) != nil else { return 0 }
    _ = try? JPEGCodec.decode(bytes, path: "input.jpg", eighths: size % 8 + 1, bgr: size % 16 >= 8,
                              firstRow: size % 3)
    return 0
}
