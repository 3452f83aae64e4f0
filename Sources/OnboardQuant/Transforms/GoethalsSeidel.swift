/// Hadamard matrices of order 4n from four ±1 sequences a, b, c, d of length n whose periodic
/// autocorrelations sum to zero at every nonzero shift, through the Goethals-Seidel array
///
///     [  A    BR    CR    DR  ]
///     [ -BR   A    DᵀR  -CᵀR  ]
///     [ -CR  -DᵀR   A    BᵀR  ]
///     [ -DR   CᵀR  -BᵀR   A   ]
///
/// (A..D circulant with first rows a..d, R the reversal permutation). These give the QuaRot
/// factors that Paley constructions cannot (156 = 4·39, 172 = 4·43). The sequences were found
/// by `tools/search_goethals_seidel.c` (seeded stochastic search: `39 1` and `43 12`); tests
/// check H Hᵀ = 4n I.
enum GoethalsSeidel {
    static let sequences: [Int: [String]] = [
        39: [
            "-+++--+++--+---++++-+-+---++-+--++++-++",
            "-++++-+-+++++-++---+++-++-++----+--+---",
            "+------+-++--+-+-+--+-----++----+-+-+-+",
            "+---+--++-++-+++-++--++++--------+-+-++",
        ],
        43: [
            "+++--++++--++----+-++-+--+++++++++-+-++++-+",
            "-++++++-+--++--++--++-+-+--+---++---+-++-+-",
            "+-----+-++--+-++-+-+---++-+-+-+--++-++-+++-",
            "---+++++-+++-----+-+++-+++---+---+----+++++",
        ],
    ]

    static func matrix(order k: Int) -> [Int8]? {
        let n = k / 4
        guard k % 4 == 0, let rows = sequences[n], rows.count == 4, rows.allSatisfy({ $0.count == n }) else { return nil }
        let s = rows.map { $0.map { $0 == "+" ? Int8(1) : Int8(-1) } }
        // Entry (i, j) of a circulant block with first row x; with R: x[(n - 1 - j - i) mod n].
        func circulant(_ x: [Int8], _ i: Int, _ j: Int) -> Int8 { x[((j - i) % n + n) % n] }
        func reversed(_ x: [Int8], _ i: Int, _ j: Int) -> Int8 { x[((n - 1 - j - i) % n + 2 * n) % n] }
        func transposedReversed(_ x: [Int8], _ i: Int, _ j: Int) -> Int8 { x[((i - (n - 1 - j)) % n + n) % n] }
        var h = [Int8](repeating: 0, count: k * k)
        for bi in 0..<4 {
            for bj in 0..<4 {
                for i in 0..<n {
                    for j in 0..<n {
                        let (a, b, c, d) = (s[0], s[1], s[2], s[3])
                        let v: Int8
                        switch (bi, bj) {
                        case (0, 0), (1, 1), (2, 2), (3, 3): v = circulant(a, i, j)
                        case (0, 1): v = reversed(b, i, j)
                        case (0, 2): v = reversed(c, i, j)
                        case (0, 3): v = reversed(d, i, j)
                        case (1, 0): v = -reversed(b, i, j)
                        case (1, 2): v = transposedReversed(d, i, j)
                        case (1, 3): v = -transposedReversed(c, i, j)
                        case (2, 0): v = -reversed(c, i, j)
                        case (2, 1): v = -transposedReversed(d, i, j)
                        case (2, 3): v = transposedReversed(b, i, j)
                        case (3, 0): v = -reversed(d, i, j)
                        case (3, 1): v = transposedReversed(c, i, j)
                        default: v = -transposedReversed(b, i, j)  // (3, 2)
                        }
                        h[(bi * n + i) * k + bj * n + j] = v
                    }
                }
            }
        }
        return h
    }
}
