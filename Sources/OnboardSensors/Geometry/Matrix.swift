/// A 3x3 Double matrix, row-major.
public struct Matrix3: Equatable, Sendable {
    public var values: [Double]

    public init(_ values: [Double]) {
        precondition(values.count == 9, "Matrix3 needs 9 values")
        self.values = values
    }

    public static let identity = Matrix3([1, 0, 0, 0, 1, 0, 0, 0, 1])

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * 3 + column] }
        set { values[row * 3 + column] = newValue }
    }

    public var transposed: Matrix3 {
        Matrix3((0..<9).map { values[($0 % 3) * 3 + $0 / 3] })
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        var out = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { out[i * 3 + j] += a[i, k] * b[k, j] } } }
        return Matrix3(out)
    }

    public static func * (a: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a[0, 0] * v.x + a[0, 1] * v.y + a[0, 2] * v.z,
              a[1, 0] * v.x + a[1, 1] * v.y + a[1, 2] * v.z,
              a[2, 0] * v.x + a[2, 1] * v.y + a[2, 2] * v.z)
    }
}

/// A 4x4 Double matrix, row-major (e.g. lidar2img).
public struct Matrix4: Equatable, Sendable {
    public var values: [Double]

    public init(_ values: [Double]) {
        precondition(values.count == 16, "Matrix4 needs 16 values")
        self.values = values
    }

    public static let identity = Matrix4([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])

    /// [[R, t], [0, 1]].
    public init(rotation: Matrix3, translation: SIMD3<Double>) {
        var v = Matrix4.identity.values
        for i in 0..<3 {
            for j in 0..<3 { v[i * 4 + j] = rotation[i, j] }
            v[i * 4 + 3] = translation[i]
        }
        self.init(v)
    }

    /// A 3x3 matrix padded into the top-left of the identity (PETR's `viewpad`).
    public init(padding m: Matrix3) { self.init(rotation: m, translation: .zero) }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * 4 + column] }
        set { values[row * 4 + column] = newValue }
    }

    public static func * (a: Matrix4, b: Matrix4) -> Matrix4 {
        var out = [Double](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 { for k in 0..<4 { out[i * 4 + j] += a[i, k] * b[k, j] } } }
        return Matrix4(out)
    }

    /// `self @ [p, 1]`, the homogeneous result.
    public func apply(_ p: SIMD3<Double>) -> SIMD4<Double> {
        var out = SIMD4<Double>()
        for i in 0..<4 { out[i] = self[i, 0] * p.x + self[i, 1] * p.y + self[i, 2] * p.z + self[i, 3] }
        return out
    }
}
