import GraphIR

/// The input embedding of docs/model.md §4: the puzzle-embedding prefix (one row of `puzzle_emb.weights`,
/// zero-padded to P·D and viewed as P tokens) followed by the token embeddings, all × √D. With
/// learned positions the table is added first and the product scaled by 0.707106781·√D, as the
/// compiler's lowering does.
///
/// Saved for backward: nothing (the token ids are an input the caller keeps).
public struct InputEmbedding: Sendable, Hashable {
    public let vocab: Int
    public let hidden: Int
    /// L: grid tokens.
    public let seqLen: Int
    /// P: prefix tokens.
    public let prefixLen: Int
    /// Values in one puzzle-table row (≤ P·D; 0 when there is no puzzle table).
    public let puzzleDim: Int
    public let learnedPositions: Bool

    public init(config: ModelConfig) {
        vocab = config.vocab
        hidden = config.hidden
        seqLen = config.seqLen
        prefixLen = config.puzzleEmbLen
        puzzleDim = config.puzzleEmbLen > 0 ? config.puzzleEmbNdim : 0
        learnedPositions = config.posEncodings == .learned
    }

    /// S = P + L.
    public var fullSeqLen: Int { seqLen + prefixLen }

    /// The factor every looked-up value is multiplied by.
    public var scale: Float {
        let root = Float(Double(hidden).squareRoot())
        return learnedPositions ? Float(0.707106781) * root : root
    }

    /// tokens [B, L] (ids < vocab), puzzleRows [B, puzzleDim] (the sample's puzzle-table rows: the
    /// trainer's per-batch local copy), tokenTable [vocab, D], positions [S, D] when learned
    /// -> x [B, S, D].
    public func forward(
        tokens: [Int32], puzzleRows: [Float], tokenTable: [Float], positions: [Float]? = nil,
        batch: Int
    ) -> [Float] {
        precondition(tokens.count == batch * seqLen, "InputEmbedding: tokens must be [\(batch), \(seqLen)]")
        checkCount(puzzleRows, batch * puzzleDim, "InputEmbedding puzzle rows")
        checkCount(tokenTable, vocab * hidden, "InputEmbedding token table")
        precondition((positions != nil) == learnedPositions, "InputEmbedding: positions are needed exactly when learned")
        let s = fullSeqLen, d = hidden, c = scale
        var x = [Float](repeating: 0, count: batch * s * d)
        for b in 0..<batch {
            let base = b * s * d
            for i in 0..<puzzleDim { x[base + i] = puzzleRows[b * puzzleDim + i] }
            for t in 0..<seqLen {
                let id = Int(tokens[b * seqLen + t])
                precondition(id >= 0 && id < vocab, "InputEmbedding: token id \(id) out of range")
                let row = base + (prefixLen + t) * d
                for i in 0..<d { x[row + i] = tokenTable[id * d + i] }
            }
            if let positions {
                checkCount(positions, s * d, "InputEmbedding positions")
                for i in 0..<(s * d) { x[base + i] += positions[i] }
            }
        }
        for i in 0..<x.count { x[i] *= c }
        return x
    }

    /// Gradients of `forward` for dX [B, S, D]: accumulates dTokenTable [vocab, D] (rows of the ids
    /// used) and returns the gradient of each sample's puzzle row [B, puzzleDim] (what the sparse
    /// SignSGD of docs/model.md §9.3 consumes) and, when learned, of the position table [S, D].
    public func backward(
        _ dX: [Float], tokens: [Int32], batch: Int,
        dTokenTable: inout [Float]
    ) -> (puzzleRows: [Float], positions: [Float]?) {
        let s = fullSeqLen, d = hidden, c = scale
        checkCount(dX, batch * s * d, "InputEmbedding dX")
        checkCount(dTokenTable, vocab * d, "InputEmbedding dTokenTable")
        precondition(tokens.count == batch * seqLen, "InputEmbedding: tokens must be [\(batch), \(seqLen)]")
        var dPuzzle = [Float](repeating: 0, count: batch * puzzleDim)
        var dPositions: [Float]? = learnedPositions ? [Float](repeating: 0, count: s * d) : nil
        for b in 0..<batch {
            let base = b * s * d
            for i in 0..<puzzleDim { dPuzzle[b * puzzleDim + i] = c * dX[base + i] }
            for t in 0..<seqLen {
                let id = Int(tokens[b * seqLen + t]), row = base + (prefixLen + t) * d
                for i in 0..<d { dTokenTable[id * d + i] += c * dX[row + i] }
            }
            if dPositions != nil { for i in 0..<(s * d) { dPositions![i] += c * dX[base + i] } }
        }
        return (dPuzzle, dPositions)
    }

    /// Rows `ids` of a puzzle table [numIds, puzzleDim] -> [B, puzzleDim]: the local copy a training
    /// step reads (docs/model.md §9.3).
    public func gatherPuzzleRows(table: [Float], ids: [Int32]) -> [Float] {
        precondition(puzzleDim > 0 || ids.isEmpty || table.isEmpty, "InputEmbedding: no puzzle table")
        precondition(table.count % max(puzzleDim, 1) == 0, "InputEmbedding: table is not [numIds, \(puzzleDim)]")
        let rows = puzzleDim > 0 ? table.count / puzzleDim : 0
        var out = [Float](repeating: 0, count: ids.count * puzzleDim)
        for (b, id) in ids.enumerated() {
            precondition(puzzleDim == 0 || (id >= 0 && Int(id) < rows), "InputEmbedding: puzzle id \(id) out of range")
            for i in 0..<puzzleDim { out[b * puzzleDim + i] = table[Int(id) * puzzleDim + i] }
        }
        return out
    }

    /// Sums per-sample row gradients [B, puzzleDim] by id (duplicates added), ids in ascending order:
    /// the input of the sparse puzzle-embedding optimizer.
    public func gradientByID(_ dRows: [Float], ids: [Int32]) -> [(id: Int32, gradient: [Float])] {
        checkCount(dRows, ids.count * puzzleDim, "InputEmbedding puzzle-row gradient")
        var sums: [Int32: [Float]] = [:]
        for (b, id) in ids.enumerated() {
            var g = sums[id] ?? [Float](repeating: 0, count: puzzleDim)
            for i in 0..<puzzleDim { g[i] += dRows[b * puzzleDim + i] }
            sums[id] = g
        }
        return sums.keys.sorted().map { ($0, sums[$0]!) }
    }
}
