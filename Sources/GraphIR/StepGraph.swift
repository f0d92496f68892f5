import TRMCore
/// Names of the step graph's inputs, outputs and initial carries (docs/formats.md §3): the contract
/// between the compiler, the runtime, the trainer and the oracle.
public enum StepGraphNames {
    public static let tokens = "tokens"
    public static let puzzleIds = "puzzle_ids"
    public static let zH = "z_H"
    public static let zL = "z_L"
    public static let zHNext = "z_H_next"
    public static let zLNext = "z_L_next"
    public static let logits = "logits"
    public static let qHalt = "q_halt"
    /// The [D] initializers a fresh batch slot's carries start from.
    public static let hInit = "H_init"
    public static let lInit = "L_init"
}

/// What a TRM step graph takes and gives, read off its value types once when a model is loaded:
/// tokens [B, L] int32, puzzle_ids [B] int32, logits [B, L, V], q_halt [B]. Every caller that needs
/// the model's sequence length or vocabulary reads it here (no probe session), and every token or
/// puzzle-id array is checked against it by `validate`.
public struct StepSignature: Hashable, Sendable {
    /// L: grid tokens per sample.
    public var seqLen: Int
    /// Rows of the token embedding: tokens must lie in 0..<vocabIn.
    public var vocabIn: Int
    /// V: logits per token.
    public var vocabOut: Int
    /// Rows of the puzzle-embedding table (1 when the model has none): ids must lie in 0..<numPuzzleIds.
    public var numPuzzleIds: Int

    /// Reads the signature of `graph` with its verified `types`, or explains why it is not a step graph.
    public init(graph: Graph, types: [String: TensorType]) throws {
        typealias N = StepGraphNames
        guard let tok = types[N.tokens], tok.dtype == .int32, tok.shape.isBatched, tok.shape.rank == 2,
            graph.inputs.contains(where: { $0.name == N.tokens }),
            let ids = types[N.puzzleIds], ids.dtype == .int32, ids.shape == Shape(batched: []),
            graph.inputs.contains(where: { $0.name == N.puzzleIds }),
            let logits = types[N.logits], logits.dtype == .float32, logits.shape.isBatched, logits.shape.rank == 3,
            logits.shape.sampleDims[0] == tok.shape.sampleDims[0],
            let q = types[N.qHalt], q.dtype == .float32, q.shape == Shape(batched: []),
            graph.outputs.contains(where: { $0.name == N.logits }), graph.outputs.contains(where: { $0.name == N.qHalt })
        else {
            throw TRMError(
                .malformedFile, "not a TRM step graph (inputs tokens [B, L] and puzzle_ids [B], outputs logits [B, L, V] and q_halt [B])")
        }
        func tableRows(_ input: String) -> Int? {
            graph.nodes.first { $0.op == .gather && $0.inputs.count == 2 && $0.inputs[1] == input }
                .flatMap { types[$0.inputs[0]]?.shape.sampleDims.first }
        }
        guard let vocabIn = tableRows(N.tokens) else { throw TRMError(.malformedFile, "the step graph never embeds its tokens") }
        seqLen = tok.shape.sampleDims[0]
        self.vocabIn = vocabIn
        vocabOut = logits.shape.sampleDims[1]
        numPuzzleIds = max(1, tableRows(N.puzzleIds) ?? 1)
    }

    /// Checks `count` samples of tokens [count, L] and puzzle ids [count] against the model.
    public func validate(tokens: [Int32], puzzleIds: [Int32]?, count: Int) throws {
        guard count >= 0, tokens.count == count * seqLen else {
            throw TRMError(.invalidInput, "tokens: expected \(count) × \(seqLen) values, got \(tokens.count)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabIn }) {
            throw TRMError(.invalidInput, "tokens: value \(bad) is outside the model's vocabulary 0..<\(vocabIn)")
        }
        guard let ids = puzzleIds else { return }
        guard ids.count == count else { throw TRMError(.invalidInput, "puzzle ids: expected \(count) values, got \(ids.count)") }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= numPuzzleIds }) {
            throw TRMError(.invalidInput, "puzzle ids: \(bad) is outside the model's \(numPuzzleIds) identifiers")
        }
    }
}
