import CKernels
import OnboardCore

/// Float islands that split into independent tiles, each computed by one thread in its own slice
/// of scratch: operands stored as codes are dequantized a tile at a time and the output quantized
/// the same way, so the island needs scratch for a tile per thread instead of an f32 copy of each
/// tensor, and the copies stay in cache. The values are the plain island's (`FloatIsland`): the
/// same FP32 kernel on the same floats.
/// - Row-wise ops (`QuantizationTraits.rowwise`: element-wise activations and binary ops, row
///   normalizations): blocks of rows of every input of the output's shape; constants, which must
///   then be one row ([width]), are read whole.
/// - A node whose kernel needs scratch of its own, or whose operands do not fit these shapes, runs
///   as a plain island.
/// - The selective scan: one sample's block of channels (`SelectiveScanOp.channelBlock`), its
///   token-major operands gathered into [length, block] tiles; B and C, read by every block, are
///   dequantized whole once.
/// - An operand that an integer op makes for the island alone (`TileProducer`) is computed into a
///   tile of its own.
enum TiledIsland {
    /// f32 bytes of one row tile: a block of rows at most this large (one row at least).
    static let rowTileBytes = 32 * 1024

    /// Scratch of the tiled island; nil when the node does not split (it runs as a plain island).
    /// `producedTiles`: how many operands' tiles the island computes (`TileProducer`).
    static func scratchBytes(_ node: Node, graph: Graph, threads: Int, producedTiles: Int = 0,
                             storedAsCodes: (ValueID) -> Bool) -> Int? {
        guard let tiling = tiling(node, graph) else { return nil }
        switch tiling {
        case let .rows(width, rowsPerTile):
            let tile = MemoryPlanner.align(rowsPerTile * width * 4)
            let tiles = (node.inputs.filter { graph.constants[$0] == nil } + [node.output]).filter(storedAsCodes).count
            let rows = graph.info(node.output).count / width
            return min(threads, (rows + rowsPerTile - 1) / rowsPerTile) * (tiles + producedTiles) * tile
        case let .scan(shape):
            let tile = MemoryPlanner.align(shape.length * SelectiveScanOp.channelBlock * 4)
            let coded = ([0, 1, 7].filter { $0 < node.inputs.count }.map { node.inputs[$0] } + [node.output]).filter(storedAsCodes).count
            let perThread = scanTiles(coded: coded, produced: producedTiles) * tile
            let shared = [3, 4].filter { storedAsCodes(node.inputs[$0]) }.count
                * MemoryPlanner.align(shape.batch * shape.length * shape.state * 4)
            return min(threads, shape.items) * perThread + shared
        }
    }

    /// Runs the node tiled; false (nothing done) when it does not split.
    static func run(_ node: Node, executor: Int8Executor, scratch: UnsafeMutableRawPointer) throws -> Bool {
        let producers = executor.tileProducers(of: node)
        guard let tiling = tiling(node, executor.graph),
              let bytes = scratchBytes(node, graph: executor.graph, threads: executor.threads, producedTiles: producers.count,
                                       storedAsCodes: executor.storesCodes) else {
            return false
        }
        guard bytes <= executor.scratch.byteCount else {
            throw OnboardError.model(item: node.name, reason: "the INT8 executor planned \(executor.scratch.byteCount) scratch bytes, "
                                     + "this float island needs \(bytes)")
        }
        switch tiling {
        case let .rows(width, rowsPerTile):
            var convolution: (Int8CausalConv1d, UnsafePointer<UInt8>, length: Int)?
            if let producer = producers.first {
                let conv = try producerKernel(executor.sequenceConvolutions, producer, node, executor.graph)
                convolution = (conv, UnsafePointer(executor.codes(producer.input)), executor.graph.info(producer.input).shape[1])
            }
            try runRows(node, executor, scratch, width: width, rowsPerTile: rowsPerTile, convolution: convolution)
        case let .scan(shape):
            // No island reads a softmax output normalized on reading (only integer matmuls do:
            // `SoftmaxNormalization.deferredValues`), so a block of channels never needs whole rows.
            let linears = try producers.map { try producerKernel(executor.linears, $0, node, executor.graph) }
            withEpilogues(linears[...]) { epilogues in
                var projections: [Int: Projection] = [:]
                for (i, producer) in producers.enumerated() {
                    projections[producer.operand] = Projection(linear: linears[i], epilogue: epilogues[i],
                                                               codes: UnsafePointer(executor.codes(producer.input)))
                }
                runScan(node, executor, scratch, shape, projections: projections)
            }
        }
        return true
    }

    /// A scan operand computed a tile at a time (`TileProducer`): its Linear, the Linear's
    /// epilogue and its input codes.
    private struct Projection {
        let linear: Int8Linear
        let epilogue: UnsafePointer<onboard_q8_epilogue>
        let codes: UnsafePointer<UInt8>
    }

    private static func withEpilogues<R>(_ linears: ArraySlice<Int8Linear>, _ body: ([UnsafePointer<onboard_q8_epilogue>]) -> R) -> R {
        guard let first = linears.first else { return body([]) }
        return first.withEpilogue { epilogue in withEpilogues(linears.dropFirst()) { body([epilogue] + $0) } }
    }

    /// Tiles per thread of a scan: a staging tile and one tile per operand stored as codes (when
    /// any is), then one per operand it computes (`TileProducer`).
    private static func scanTiles(coded: Int, produced: Int) -> Int {
        (coded == 0 ? 0 : coded + 1) + produced
    }

    /// The integer kernel of the island's tile producer (prepared with the executor's weights).
    private static func producerKernel<Kernel>(_ kernels: [Int: Kernel], _ producer: TileProducer, _ node: Node,
                                               _ graph: Graph) throws -> Kernel {
        guard let kernel = kernels[producer.node] else {
            throw OnboardError.model(item: node.name, reason: "the integer op '\(graph.nodes[producer.node].name)' computing its tiles has no kernel")
        }
        return kernel
    }

    struct ScanShape {
        let batch: Int, length: Int, channels: Int, state: Int, reverse: Bool
        /// Tiles: one per sample and block of channels.
        var items: Int { batch * ((channels + SelectiveScanOp.channelBlock - 1) / SelectiveScanOp.channelBlock) }
    }

    enum Tiling {
        case rows(width: Int, rowsPerTile: Int)
        case scan(ScanShape)
    }

    static func tiling(_ node: Node, _ graph: Graph) -> Tiling? {
        guard FP32Kernels.scratchBytes(node, graph, threads: 1) == 0,
              let first = node.inputs.first, graph.info(node.output).dtype == .f32 else { return nil }
        if case let .selectiveScan(reverse) = node.op {
            let shape = graph.info(first).shape
            guard shape.count == 3, let state = graph.info(node.inputs[2]).shape.last,
                  [2, 5, 6, 8].allSatisfy({ $0 >= node.inputs.count || graph.constants[node.inputs[$0]] != nil }) else { return nil }
            return .scan(ScanShape(batch: shape[0], length: shape[1], channels: shape[2], state: state, reverse: reverse))
        }
        // Inputs of the output's shape are tiled alike; constants go whole, so they must broadcast
        // along the last axis only.
        let shape = graph.info(node.output).shape
        guard node.op.quantization.rowwise, graph.info(first).shape == shape, graph.constants[first] == nil,
              let width = shape.last, width > 0,
              node.inputs.allSatisfy({ graph.info($0).dtype == .f32 && (graph.constants[$0] == nil ? graph.info($0).shape == shape
                                                                        : graph.info($0).shape == [width]) })
        else { return nil }
        let rows = graph.info(node.output).count / width
        return .rows(width: width, rowsPerTile: max(1, min(rows, rowTileBytes / (width * 4))))
    }

    /// Work items 0..<count in at most `threads` contiguous ranges, as `Parallel.forRanges` splits
    /// them, each with its own slot index.
    private static func slots(count: Int, threads: Int, _ body: (_ slot: Int, _ item: Int) -> Void) {
        let slots = min(threads, count)
        Parallel.forRanges(count: slots, threads: slots) { range in
            for slot in range {
                for item in count * slot / slots..<count * (slot + 1) / slots { body(slot, item) }
            }
        }
    }

    /// With `convolution` (the conv1d making the only input, its input codes and sequence length),
    /// each tile of the input is convolved into a tile of its own.
    private static func runRows(_ node: Node, _ executor: Int8Executor, _ scratch: UnsafeMutableRawPointer, width: Int, rowsPerTile: Int,
                                convolution: (Int8CausalConv1d, UnsafePointer<UInt8>, length: Int)?) throws {
        let graph = executor.graph, output = executor.tileCodec(node.output)
        let rows = graph.info(node.output).count / width
        let tile = MemoryPlanner.align(rowsPerTile * width * 4)
        /// Per input: its codec when tiled, nil for a constant (read whole) or a convolved input.
        let tiled = node.inputs.map { graph.constants[$0] == nil && convolution == nil ? executor.tileCodec($0) : nil }
        let tileCount = tiled.filter { $0.map { !$0.isFloat } ?? false }.count + (output.isFloat ? 0 : 1) + (convolution == nil ? 0 : 1)
        let context = KernelContext(threads: 1, scratch: scratch)
        let tiles = (rows + rowsPerTile - 1) / rowsPerTile
        let errors = ParallelErrors(count: tiles)
        slots(count: tiles, threads: executor.threads) { slot, item in
            let first = item * rowsPerTile, count = min(rowsPerTile, rows - first)
            let elements = first * width..<(first + count) * width
            var next = scratch + slot * tileCount * tile
            func floats(_ codec: TileCodec, load: Bool) -> UnsafeMutablePointer<Float> {
                if let pointer = codec.floats(at: elements.lowerBound) { return pointer }
                let target = next.assumingMemoryBound(to: Float.self)
                next += tile
                if load { codec.load(rows: first..<first + count, columns: 0..<width, rowLength: width, into: target, staging: nil) }
                return target
            }
            let shape = [count, width]
            let inputs = zip(node.inputs, tiled).map { id, codec in
                if let (conv, codes, length) = convolution {
                    let target = next
                    next += tile
                    conv.computeRows(codes, length: length, rows: first..<first + count, into: target)
                    return Operand(pointer: target, shape: shape, dtype: .f32)
                }
                return codec.map { Operand(pointer: UnsafeMutableRawPointer(floats($0, load: true)), shape: shape, dtype: .f32) }
                    ?? Operand(pointer: UnsafeMutableRawPointer(executor.floats(id)), shape: graph.info(id).shape, dtype: .f32)
            }
            let y = floats(output, load: false)
            do {
                try FP32Kernels.run(node, inputs, Operand(pointer: UnsafeMutableRawPointer(y), shape: shape, dtype: .f32), context)
            } catch {
                errors.set(item, error)
            }
            if !output.isFloat { output.store(y, rows: first..<first + count, columns: 0..<width, rowLength: width, staging: nil) }
        }
        if let failure = errors.first { throw failure.error }
    }

    /// u (0), delta (1) and z (7) and the output y are gathered into tiles [length, width] where
    /// stored as codes (their codes through a staging tile), read in place with the tensor's
    /// stride where f32; A, D, the delta bias and the gate scale are constants, offset to the
    /// block's first channel; B and C are read whole. Operands in `projections` (delta, z) are
    /// computed into tiles after the others.
    private static func runScan(_ node: Node, _ executor: Int8Executor, _ scratch: UnsafeMutableRawPointer, _ shape: ScanShape,
                                projections: [Int: Projection]) {
        let (length, channels, state) = (shape.length, shape.channels, shape.state)
        let block = SelectiveScanOp.channelBlock, tile = MemoryPlanner.align(length * block * 4)
        let inputs = node.inputs, output = executor.tileCodec(node.output)
        let uCodec = executor.tileCodec(inputs[0])
        let deltaCodec = projections[1] == nil ? executor.tileCodec(inputs[1]) : nil
        let zCodec = inputs.count >= 8 && projections[7] == nil ? executor.tileCodec(inputs[7]) : nil
        let coded = ([uCodec, output] + [deltaCodec, zCodec].compactMap { $0 }).filter { !$0.isFloat }.count
        let stagingTiles = coded == 0 ? 0 : 1
        let perThread = scanTiles(coded: coded, produced: projections.count) * tile
        var shared = scratch + min(executor.threads, shape.items) * perThread
        /// B and C: f32 in place, or dequantized whole once.
        func wholeFloats(_ id: ValueID) -> UnsafePointer<Float> {
            let codec = executor.tileCodec(id), count = executor.graph.info(id).count
            if let pointer = codec.floats(at: 0) { return UnsafePointer(pointer) }
            let target = shared.assumingMemoryBound(to: Float.self)
            codec.load(rows: 0..<1, columns: 0..<count, rowLength: count, into: target, staging: nil)
            shared += MemoryPlanner.align(count * 4)
            return UnsafePointer(target)
        }
        let b = wholeFloats(inputs[3]), c = wholeFloats(inputs[4])
        let a = executor.floats(inputs[2]), d = executor.floats(inputs[5]), deltaBias = executor.floats(inputs[6])
        let gateScale = inputs.count == 9 ? executor.floats(inputs[8]) : nil
        let blocks = (channels + block - 1) / block
        let reverse: Int32 = shape.reverse ? 1 : 0
        slots(count: shape.items, threads: executor.threads) { slot, item in
            let sample = item / blocks, c0 = (item % blocks) * block, width = min(block, channels - c0)
            let rows = sample * length..<(sample + 1) * length, columns = c0..<c0 + width
            let staging = (scratch + slot * perThread).assumingMemoryBound(to: UInt8.self)
            var next = scratch + slot * perThread + stagingTiles * tile
            /// The block's floats and their token stride: in place, or a tile.
            func floats(_ codec: TileCodec, load: Bool) -> (UnsafeMutablePointer<Float>, Int) {
                if let pointer = codec.floats(at: rows.lowerBound * channels + c0) { return (pointer, channels) }
                let target = next.assumingMemoryBound(to: Float.self)
                next += tile
                if load { codec.load(rows: rows, columns: columns, rowLength: channels, into: target, staging: staging) }
                return (target, width)
            }
            /// Operand `index` read (stored) or computed (`projections`) into a tile.
            func operand(_ index: Int, _ codec: TileCodec?) -> (UnsafeMutablePointer<Float>, Int)? {
                if let codec { return floats(codec, load: true) }
                guard let projection = projections[index] else { return nil }
                let target = next.assumingMemoryBound(to: Float.self)
                next += tile
                TileProducer.project(projection.linear, epilogue: projection.epilogue, input: projection.codes, sample: sample,
                                     length: length, columns: columns, into: target)
                return (target, width)
            }
            let (u, uStride) = floats(uCodec, load: true)
            let (y, yStride) = floats(output, load: false)
            let z = operand(7, zCodec)
            guard let (delta, deltaStride) = operand(1, deltaCodec) else { return }
            let states = rows.lowerBound * state
            onboard_f32_selective_scan(length, state, 0, width, reverse, u, uStride, delta, deltaStride, deltaBias + c0,
                                       a + c0 * state, b + states, c + states, state, d + c0,
                                       z.map { UnsafePointer($0.0) }, z?.1 ?? 0, gateScale.map { UnsafePointer($0 + c0) }, y, yStride)
            if !output.isFloat { output.store(y, rows: rows, columns: columns, rowLength: channels, staging: staging) }
        }
    }
}
