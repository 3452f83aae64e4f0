import CKernels
import OnboardCore

/// One value of the INT8 executor as a tiled float island reads and writes it: a block of it,
/// seen as a matrix of rows of `rowLength`, converted to or from contiguous floats on the calling
/// thread with the codecs the plain island applies to the whole tensor (`Int8Executor.copyAsFloat`,
/// `ActivationCodec`). A block narrower than the rows goes through `staging` (its codes gathered
/// or scattered a row at a time), so the codec runs once per block.
struct TileCodec {
    enum Storage {
        case floats(UnsafeMutablePointer<Float>)
        case codes(UnsafeMutablePointer<UInt8>, ActivationQuant)
        case logCodes(UnsafeMutablePointer<UInt8>, LogCodeQuant)
    }

    let storage: Storage
    /// Rows of this width are normalized on reading (a deferred softmax's output): loads must
    /// cover whole rows.
    let normalizedRowWidth: Int?

    var isFloat: Bool {
        if case .floats = storage { return true }
        return false
    }

    /// The f32 elements themselves, for a value stored in f32.
    func floats(at offset: Int) -> UnsafeMutablePointer<Float>? {
        if case let .floats(pointer) = storage { return pointer + offset }
        return nil
    }

    /// Rows × columns of the value into `target` (rows × columns.count, contiguous). Columns
    /// narrower than the rows of codes go through `staging` (rows × columns.count bytes), or
    /// without it a row at a time.
    func load(rows: Range<Int>, columns: Range<Int>, rowLength: Int, into target: UnsafeMutablePointer<Float>,
              staging: UnsafeMutablePointer<UInt8>?) {
        let width = columns.count
        Self.forEachBlock(rows, width: width, rowLength: rowLength, staged: staging != nil) { part, block in
            let first = block.lowerBound * rowLength + columns.lowerBound, count = block.count * width
            let contiguous = width == rowLength || block.count == 1, into = target + part * width
            switch storage {
            case let .floats(pointer):
                Self.copyRows(contiguous ? 1 : block.count, contiguous ? count : width, from: pointer + first, stride: rowLength,
                              to: into, stride: width)
            case let .codes(codes, _), let .logCodes(codes, _):
                var source = UnsafePointer(codes + first)
                if !contiguous, let staging {
                    Self.copyRows(block.count, width, from: source, stride: rowLength, to: staging, stride: width)
                    source = UnsafePointer(staging)
                }
                switch storage {
                case let .codes(_, q): onboard_q8_dequantize_u8(source, into, count, q.scale, q.zeroPoint)
                case let .logCodes(_, log): LogCodeTables.dequantize(source, into: into, count: count, log)
                case .floats: break
                }
            }
        }
        if let width = normalizedRowWidth {
            SoftmaxNormalization.normalizeRows(UnsafeMutableBufferPointer(start: target, count: rows.count * columns.count), width: width)
        }
    }

    /// `source` (rows × columns.count, contiguous) into those rows and columns of the value, with
    /// `staging` as `load` takes it.
    func store(_ source: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>, rowLength: Int,
               staging: UnsafeMutablePointer<UInt8>?) {
        let width = columns.count
        Self.forEachBlock(rows, width: width, rowLength: rowLength, staged: staging != nil) { part, block in
            let first = block.lowerBound * rowLength + columns.lowerBound, count = block.count * width
            let contiguous = width == rowLength || block.count == 1, from = source + part * width
            switch storage {
            case let .floats(pointer):
                Self.copyRows(contiguous ? 1 : block.count, contiguous ? count : width, from: from, stride: width,
                              to: pointer + first, stride: rowLength)
            case let .codes(codes, _), let .logCodes(codes, _):
                let written = contiguous ? codes + first : staging ?? codes + first
                switch storage {
                case let .codes(_, q): onboard_q8_quantize_u8(from, written, count, q.scale, q.zeroPoint, q.qmin, q.qmax)
                case let .logCodes(_, log): for i in 0..<count { written[i] = log.code(of: from[i]) }
                case .floats: break
                }
                if !contiguous { Self.copyRows(block.count, width, from: written, stride: width, to: codes + first, stride: rowLength) }
            }
        }
    }

    /// The rows as one block, or a block per row when narrow columns have no staging; each with its
    /// first row's index within `rows`. (A loop, not an array: it runs for every tile.)
    private static func forEachBlock(_ rows: Range<Int>, width: Int, rowLength: Int, staged: Bool,
                                     _ body: (_ part: Int, _ block: Range<Int>) -> Void) {
        guard width != rowLength, !staged else { return body(0, rows) }
        for row in rows { body(row - rows.lowerBound, row..<row + 1) }
    }

    private static func copyRows(_ rows: Int, _ width: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
                                 to target: UnsafeMutablePointer<Float>, stride targetStride: Int) {
        for row in 0..<rows { (target + row * targetStride).update(from: source + row * sourceStride, count: width) }
    }

    /// Rows of codes between strided layouts, 16 bytes at a time (a memcpy call per short row
    /// cost about as much as the scan of the row's channels).
    private static func copyRows(_ rows: Int, _ width: Int, from source: UnsafePointer<UInt8>, stride sourceStride: Int,
                                 to target: UnsafeMutablePointer<UInt8>, stride targetStride: Int) {
        let vectors = width / 16
        for row in 0..<rows {
            let from = UnsafeRawPointer(source + row * sourceStride), to = UnsafeMutableRawPointer(target + row * targetStride)
            for v in 0..<vectors {
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: v * 16, as: SIMD16<UInt8>.self), toByteOffset: v * 16, as: SIMD16<UInt8>.self)
            }
            for i in vectors * 16..<width { to.storeBytes(of: from.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        }
    }
}
