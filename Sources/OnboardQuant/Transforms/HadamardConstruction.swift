import OnboardCore

/// Builds ±1 Hadamard matrices of order K for the non-power-of-two factors of n = K * 2^m.
///
/// QuaRot ships hard-coded tables for K in {12, 20, 28, 36, 40, 52, 60, 108, 140, 156, 172}. We construct
/// them instead: Paley I (order q + 1, q prime ≡ 3 mod 4) gives 12, 20, 60, 108, 140; Paley II (order
/// 2(q + 1), q ≡ 1 mod 4 a prime or the square of a prime, over GF(q)) gives 28, 36, 52; Sylvester doubling
/// gives 40 = 2 x 20 and any K * 2^j. Any Hadamard matrix serves (the transform only needs H H^T = K I),
/// so ours differ from QuaRot's tables. 156 and 172 come from Goethals-Seidel arrays
/// (GoethalsSeidel.swift); an order with no construction is rejected.
enum HadamardConstruction {
    /// A K x K matrix with entries ±1 and H H^T = K I, row-major, or nil if K is not constructible.
    static func matrix(order k: Int) -> [Int8]? {
        if k == 1 { return [1] }
        if k == 2 { return [1, 1, 1, -1] }
        if k % 4 != 0 { return nil }
        if let q = Optional(k - 1), isPrime(q), q % 4 == 3 { return paleyI(q) }
        let half = k / 2 - 1
        if half % 4 == 1, let field = FiniteField(order: half) { return paleyII(field) }
        if let h = GoethalsSeidel.matrix(order: k) { return h }
        if let h = matrix(order: k / 2) { return doubled(h, k / 2) }
        return nil
    }

    private static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        var d = 2
        while d * d <= n {
            if n % d == 0 { return false }
            d += 1
        }
        return true
    }

    private static func doubled(_ h: [Int8], _ n: Int) -> [Int8] {
        var out = [Int8](repeating: 0, count: 4 * n * n)
        for r in 0..<n { for c in 0..<n {
            let v = h[r * n + c]
            out[r * 2 * n + c] = v
            out[r * 2 * n + c + n] = v
            out[(r + n) * 2 * n + c] = v
            out[(r + n) * 2 * n + c + n] = -v
        } }
        return out
    }

    /// Jacobsthal matrix Q[a][b] = chi(a - b) over GF(q).
    private static func jacobsthal(_ field: FiniteField) -> [Int8] {
        let q = field.order
        let chi = field.quadraticCharacter()
        var out = [Int8](repeating: 0, count: q * q)
        for a in 0..<q { for b in 0..<q { out[a * q + b] = chi[field.subtract(a, b)] } }
        return out
    }

    private static func paleyI(_ q: Int) -> [Int8]? {
        guard let field = FiniteField(order: q) else { return nil }
        let jac = jacobsthal(field), n = q + 1
        // H = I + S with S = [[0, 1^T], [-1, Q]] skew-symmetric.
        var h = [Int8](repeating: 0, count: n * n)
        for c in 1..<n { h[c] = 1; h[c * n] = -1 }
        for a in 0..<q { for b in 0..<q { h[(a + 1) * n + b + 1] = jac[a * q + b] } }
        for i in 0..<n { h[i * n + i] += 1 }
        return h
    }

    private static func paleyII(_ field: FiniteField) -> [Int8] {
        let q = field.order, jac = jacobsthal(field), m = q + 1, n = 2 * m
        // C = [[0, 1^T], [1, Q]] symmetric; replace 0 by [[1,-1],[-1,-1]] and ±1 by ±[[1,1],[1,-1]].
        var c = [Int8](repeating: 0, count: m * m)
        for i in 1..<m { c[i] = 1; c[i * m] = 1 }
        for a in 0..<q { for b in 0..<q { c[(a + 1) * m + b + 1] = jac[a * q + b] } }
        var h = [Int8](repeating: 0, count: n * n)
        for r in 0..<m { for s in 0..<m {
            let v = c[r * m + s]
            let block: [Int8] = v == 0 ? [1, -1, -1, -1] : [v, v, v, -v]
            h[(2 * r) * n + 2 * s] = block[0]
            h[(2 * r) * n + 2 * s + 1] = block[1]
            h[(2 * r + 1) * n + 2 * s] = block[2]
            h[(2 * r + 1) * n + 2 * s + 1] = block[3]
        } }
        return h
    }
}

/// GF(p) or GF(p^2) (elements a + b·t, t^2 = a fixed non-residue), just enough for quadratic characters.
private struct FiniteField {
    let p: Int
    let degree: Int
    let nonResidue: Int
    var order: Int { degree == 1 ? p : p * p }

    init?(order: Int) {
        guard order >= 2 else { return nil }
        var p = 2
        while order % p != 0 { p += 1 }
        if p == order {
            self.p = p; degree = 1; nonResidue = 0
        } else if p * p == order, p > 2 {
            self.p = p; degree = 2
            var r = 2
            while (1..<p).contains(where: { $0 * $0 % p == r }) { r += 1 }
            nonResidue = r
        } else {
            return nil
        }
    }

    private func parts(_ x: Int) -> (Int, Int) { (x % p, x / p) }
    private func element(_ a: Int, _ b: Int) -> Int { ((a % p + p) % p) + ((b % p + p) % p) * p }

    func subtract(_ x: Int, _ y: Int) -> Int {
        let (a, b) = parts(x), (c, d) = parts(y)
        return element(a - c, b - d)
    }

    func multiply(_ x: Int, _ y: Int) -> Int {
        let (a, b) = parts(x), (c, d) = parts(y)
        return element(a * c + b * d * nonResidue, a * d + b * c)
    }

    /// chi(x) = 0 for 0, 1 for non-zero squares, -1 otherwise.
    func quadraticCharacter() -> [Int8] {
        var chi = [Int8](repeating: -1, count: order)
        chi[0] = 0
        for x in 1..<order { chi[multiply(x, x)] = 1 }
        return chi
    }
}
