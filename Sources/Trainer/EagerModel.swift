import GraphIR

/// The model run eagerly with the trainer's layers: one ACT step (docs/model.md §6) and the fixed-halting
/// solve. It is the reference the compiled graph must reproduce (docs/model.md §10.2), and the forward that
/// training differentiates.
public struct EagerModel: Sendable {
    public let config: ModelConfig
    public let params: ParameterSet
    public let batch: Int
    let embedding: InputEmbedding
    let network: SharedNetwork
    let heads: OutputHeads

    public init(checkpoint: Checkpoint, batch: Int) {
        self.init(config: checkpoint.config, params: ParameterSet(checkpoint: checkpoint), batch: batch)
    }

    /// The model with weights `params` (every tensor of `config.parameterSpecs`).
    public init(config: ModelConfig, params: ParameterSet, batch: Int) {
        self.config = config
        // The weights stay fixed for the model's life: each Linear weight is packed once, on first
        // use (fp32 packs give the per-call products' bits), instead of on every application.
        var params = params
        if params.packs == nil { params.packs = WeightPacks(precision: .fp32) }
        self.params = params
        self.batch = batch
        embedding = InputEmbedding(config: config)
        network = SharedNetwork(config: config, batch: batch)
        heads = OutputHeads(config: config, batch: batch)
    }

    /// The initial carry: H_init and L_init on every position of every sample.
    public func initialCarry() -> (zH: [Float], zL: [Float]) {
        let n = batch * config.fullSeqLen
        return (
            Array([[Float]](repeating: params[StepGraphNames.hInit], count: n).joined()),
            Array([[Float]](repeating: params[StepGraphNames.lInit], count: n).joined())
        )
    }

    /// One ACT step: H_cycles × (L_cycles latent updates + one answer update), then the heads.
    /// tokens [B, L], puzzle ids [B] -> (z_H, z_L, logits [B, L, V], q_halt [B]).
    public func step(zH: [Float], zL: [Float], tokens: [Int32], puzzleIds: [Int32]) -> (
        zH: [Float], zL: [Float], logits: [Float], qHalt: [Float]
    ) {
        let rows = config.puzzleEmbNdim > 0 ? embedding.gatherPuzzleRows(table: params["puzzle_emb.weights"], ids: puzzleIds) : []
        let x = embedding.forward(
            tokens: tokens, puzzleRows: rows, tokenTable: params["embed_tokens.embedding_weight"],
            positions: config.posEncodings == .learned ? params["embed_pos.embedding_weight"] : nil, batch: batch)
        var h = zH, l = zL
        network.cycles(h: &h, l: &l, x: x, hCycles: config.hCycles, params: params)
        let (logits, q, _) = heads.forward(h, params: params)
        return (h, l, logits, (0..<batch).map { q[2 * $0] })
    }

    /// Runs `steps` ACT steps from the initial carry (fixed halting) and returns the last step's logits.
    public func solve(tokens: [Int32], puzzleIds: [Int32], steps: Int) -> (logits: [Float], qHalt: [Float]) {
        var (h, l) = initialCarry()
        var last: (logits: [Float], qHalt: [Float]) = ([], [])
        for _ in 0..<steps {
            let r = step(zH: h, zL: l, tokens: tokens, puzzleIds: puzzleIds)
            (h, l) = (r.zH, r.zL)
            last = (r.logits, r.qHalt)
        }
        return last
    }

    /// `solve` over `count` samples (tokens [count, L], ids [count]) in chunks of `batch`, the last
    /// chunk padded with repeats of its first sample -> logits [count, L, V], q_halt [count].
    public func solveAll(tokens: [Int32], puzzleIds: [Int32], count: Int, steps: Int) -> (logits: [Float], qHalt: [Float]) {
        let l = config.seqLen, v = config.vocab
        precondition(tokens.count == count * l && puzzleIds.count == count, "EagerModel.solveAll: tokens [count, L], ids [count]")
        var logits = [Float](), qHalt = [Float]()
        logits.reserveCapacity(count * l * v)
        for start in stride(from: 0, to: count, by: batch) {
            let rows = (0..<batch).map { min(start + $0, count - 1) }
            let r = solve(tokens: rows.flatMap { tokens[($0 * l)..<(($0 + 1) * l)] }, puzzleIds: rows.map { puzzleIds[$0] }, steps: steps)
            let used = min(batch, count - start)
            logits += r.logits[0..<(used * l * v)]
            qHalt += r.qHalt[0..<used]
        }
        return (logits, qHalt)
    }
}
