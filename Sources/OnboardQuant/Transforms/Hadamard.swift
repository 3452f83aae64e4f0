import CKernels
import Foundation
import OnboardCore

/// Orthonormal Hadamard rotation of size n = K * 2^m, applied in place in O(n log n + n K).
///
/// Row-vector convention throughout this module: `apply(row)` computes `row · R` with
/// `R = (H_K ⊗ H_{2^m})^T / sqrt(n)`, the element index read as `k * 2^m + j` (as QuaRot's matmul_hadU:
/// radix-2 butterflies over the power-of-two part, then a dense K x K product). `matrix` is that R.
public struct Hadamard: Sendable {
    public let size: Int
    /// The non-power-of-two factor (1 when n is a power of two).
    public let factor: Int
    private let hk: [Float]

    public init(size n: Int) throws {
        guard n >= 1 else { throw OnboardError.invalidArgument("Hadamard size must be positive, got \(n)") }
        var odd = n
        while odd % 2 == 0 { odd /= 2 }
        var k = odd
        while n % k == 0, HadamardConstruction.matrix(order: k) == nil { k *= 2 }
        guard n % k == 0, let h = HadamardConstruction.matrix(order: k) else {
            throw OnboardError.invalidArgument(
                "no Hadamard matrix of size \(n): it must be K * 2^m with K in {1, 12, 20, 28, 36, 40, 52, 60, 108, 140, ...} (156 and 172 are not built)")
        }
        size = n
        factor = k
        hk = h.map(Float.init)
    }

    /// H_K as K x K floats, row-major (the kernels' `hk`).
    public var factorMatrix: [Float] { hk }

    /// `x[0..<n] ← x · R` (or `x · R^T`, the inverse, with `transpose`).
    public func apply(_ x: UnsafeMutablePointer<Float>, transpose: Bool = false) {
        rotate(rows: x, count: 1, transpose: transpose)
    }

    /// `apply` on `count` consecutive rows of n (the f32_hadamard_rows kernel: butterflies within
    /// each 2^m block, then K x K sums of whole blocks).
    public func rotate(rows x: UnsafeMutablePointer<Float>, count: Int, transpose: Bool = false) {
        let k = factor
        let matrix = transpose ? (0..<(k * k)).map { hk[($0 % k) * k + $0 / k] } : hk
        let work = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { work.deallocate() }
        onboard_f32_hadamard_rows(x, count, size, k, matrix, work)
    }

    /// Applies to every row of a row-major [rows, n] buffer.
    public func applyRows(_ values: inout [Float], transpose: Bool = false) throws {
        guard values.count % size == 0 else {
            throw OnboardError.shape(item: "hadamard", reason: "\(values.count) values are not rows of \(size)")
        }
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for row in 0..<(buffer.count / size) { apply(base + row * size, transpose: transpose) }
        }
    }

    /// The n x n orthogonal matrix R with `apply(row) == row · R`.
    public var matrix: Matrix {
        var m = Matrix.identity(size)
        try? applyRows(&m.values)
        return m
    }
}

/// QuIP#/QuaRot randomized Hadamard `D · H`: random signs, then the Hadamard rotation (orthogonal).
public struct RandomHadamard: Sendable {
    public let hadamard: Hadamard
    public let signs: [Float]

    public init(size n: Int, seed: UInt64) throws {
        hadamard = try Hadamard(size: n)
        var generator = SplitMix64(seed: seed)
        signs = (0..<n).map { _ in generator.next() & 1 == 0 ? 1 : -1 }
    }

    /// `row · D · H` per row (or the inverse `row · H^T · D` with `transpose`).
    public func applyRows(_ values: inout [Float], transpose: Bool = false) throws {
        let n = hadamard.size
        if !transpose { for i in values.indices { values[i] *= signs[i % n] } }
        try hadamard.applyRows(&values, transpose: transpose)
        if transpose { for i in values.indices { values[i] *= signs[i % n] } }
    }

    public var matrix: Matrix {
        var m = Matrix.identity(hadamard.size)
        try? applyRows(&m.values)
        return m
    }
}
