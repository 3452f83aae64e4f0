/// WordPiece on one word (tokenizers `models/wordpiece`): greedy longest match from the left,
/// pieces after the first looked up with `##` before them; a word with a remainder no token
/// matches, or longer than `maxInputCharsPerWord` scalars, is one unknown token.
struct WordPiece: Sendable {
    let vocabulary: Vocabulary
    let unkID: Int32
    var maxInputCharsPerWord = 100

    /// Scratch space reused across words (UTF-8 of the word and the byte offset of each scalar).
    struct Scratch {
        var utf8: [UInt8] = []
        var boundaries: [Int] = []
    }

    /// Appends the piece ids of `word` to `ids`.
    func appendPieces(of word: ArraySlice<Unicode.Scalar>, to ids: inout [Int32], scratch: inout Scratch) {
        guard word.count <= maxInputCharsPerWord else {
            ids.append(unkID)
            return
        }
        scratch.utf8.removeAll(keepingCapacity: true)
        scratch.boundaries.removeAll(keepingCapacity: true)
        scratch.boundaries.append(0)
        for scalar in word {
            UTF8.encode(scalar) { scratch.utf8.append($0) }
            scratch.boundaries.append(scratch.utf8.count)
        }
        let firstPiece = ids.count
        let boundaries = scratch.boundaries
        let matched = scratch.utf8.withUnsafeBufferPointer { bytes -> Bool in
            let count = word.count
            var start = 0
            while start < count {
                let longest = start == 0 ? vocabulary.maxScalars : vocabulary.maxContinuationScalars
                var end = min(count, start + longest)
                var found: Int32?
                while end > start {
                    let candidate = UnsafeBufferPointer(rebasing: bytes[boundaries[start]..<boundaries[end]])
                    if let id = vocabulary.id(of: candidate, continuation: start > 0) {
                        found = id
                        break
                    }
                    end -= 1
                }
                guard let id = found else { return false }
                ids.append(id)
                start = end
            }
            return true
        }
        if !matched {
            ids.removeSubrange(firstPiece...)
            ids.append(unkID)
        }
    }
}
