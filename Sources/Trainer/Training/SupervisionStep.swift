import GraphIR
import Runtime

/// The differentiable part of one training ACT step (docs/model.md §6, §8.2): from a carry (z_H, z_L)
/// and the slots' data, the H_cycles × (L_cycles + 1) recursion where only the last H-cycle is
/// differentiated, the heads, the loss and every gradient. Halting, exploration and slot refill are
/// `TrainingCarry`'s; this type is a pure function of its inputs, which is what the whole-step
/// gradient check needs.
public struct SupervisionStep: Sendable {
    public let config: ModelConfig
    public let batch: Int
    public var loss: ACTLoss
    /// The arithmetic of the step's Linear products: its weights are packed once per `run` for it
    /// (`WeightPacks`); nil packs per product in fp32.
    public var precision: Precision?
    let embedding: InputEmbedding
    let network: SharedNetwork
    let heads: OutputHeads

    public init(config: ModelConfig, batch: Int, loss: ACTLoss = ACTLoss(), precision: Precision? = .fp32) {
        self.config = config
        self.batch = batch
        self.loss = loss
        self.precision = precision
        embedding = InputEmbedding(config: config)
        network = SharedNetwork(config: config, batch: batch)
        heads = OutputHeads(config: config, batch: batch)
    }

    public struct Result: Sendable {
        /// The detached carry for the next step [B, S, D].
        public var zH: [Float]
        public var zL: [Float]
        /// q_halt per slot (before any update).
        public var qHalt: [Float]
        public var loss: ACTLoss.Result
        /// Gradients of the dense tensors (H_init, L_init and the puzzle table are not in it).
        public var grads: ParameterSet
        /// Summed puzzle-row gradients by id, ascending (empty without a puzzle table).
        public var puzzleGrads: [(id: Int32, gradient: [Float])]
    }

    /// Tensors AdamATan2 trains: those the papers count (the puzzle table, H_init, L_init excluded).
    public static func denseNames(_ config: ModelConfig) -> [String] {
        config.parameterSpecs.filter(\.counted).map(\.name)
    }

    /// zH, zL [B, S, D], tokens and labels [B, L] (−100 = ignored), puzzle ids [B] -> next carry,
    /// loss and the gradients of loss.total × gradScale (the reference uses 1 / global batch).
    public func run(
        zH: [Float], zL: [Float], tokens: [Int32], labels: [Int32], puzzleIds: [Int32],
        params: ParameterSet, gradScale: Double
    ) -> Result {
        run(
            zH: zH, zL: zL, tokens: tokens, labels: labels, puzzleIds: puzzleIds, params: params, gradScale: gradScale,
            noGradParams: nil)
    }

    /// `run` with the no-gradient cycles (and the embedding they read) computed from `noGradParams`
    /// (nil: `params`); the gradient check passes the unperturbed weights, so that its finite
    /// differences see the truncated graph the backward differentiates.
    func run(
        zH: [Float], zL: [Float], tokens: [Int32], labels: [Int32], puzzleIds: [Int32],
        params: ParameterSet, gradScale: Double, noGradParams: ParameterSet?
    ) -> Result {
        var params = params, noGradParams = noGradParams
        if let precision {
            if params.packs?.precision != precision { params.packs = WeightPacks(precision: precision) }
            if noGradParams != nil, noGradParams?.packs?.precision != precision { noGradParams?.packs = WeightPacks(precision: precision) }
        }
        let n = batch * config.fullSeqLen * config.hidden
        checkCount(zH, n, "SupervisionStep z_H")
        checkCount(zL, n, "SupervisionStep z_L")
        precondition(labels.count == batch * config.seqLen && puzzleIds.count == batch, "SupervisionStep: labels [B, L], ids [B]")
        let hasPuzzle = config.puzzleEmbNdim > 0
        func embed(_ p: ParameterSet) -> [Float] {
            let rows = hasPuzzle ? embedding.gatherPuzzleRows(table: p["puzzle_emb.weights"], ids: puzzleIds) : []
            let positions = config.posEncodings == .learned ? p["embed_pos.embedding_weight"] : nil
            return embedding.forward(
                tokens: tokens, puzzleRows: rows, tokenTable: p["embed_tokens.embedding_weight"],
                positions: positions, batch: batch)
        }
        let x = embed(params)
        var h = zH, l = zL
        // Without gradient: every H-cycle but the last.
        network.cycles(h: &h, l: &l, x: noGradParams.map(embed) ?? x, hCycles: config.hCycles - 1, params: noGradParams ?? params)
        // With gradient: the last H-cycle, saving what the backward needs.
        let hIn = h
        let injectionL = added(hIn, x)
        var savedL: [SharedNetwork.Saved] = []
        for _ in 0..<config.lCycles {
            let (out, saved) = network.forward(l, injection: injectionL, params: params)
            savedL.append(saved)
            l = out
        }
        let (hOut, savedH) = network.forward(hIn, injection: l, params: params)
        let (logits, q, savedHeads) = heads.forward(hOut, params: params)
        let lossResult = loss.evaluate(
            logits: logits, q: q, labels: labels, batch: batch, seqLen: config.seqLen,
            vocab: config.vocab, gradScale: gradScale)

        var grads = ParameterSet(
            Dictionary(
                uniqueKeysWithValues: Self.denseNames(config).map {
                    ($0, [Float](repeating: 0, count: params[$0].count))
                }))
        let dH = heads.backward(dLogits: lossResult.dLogits, dQ: lossResult.dQ, savedHeads, params: params, grads: &grads)
        // net(h, inj) reads h + inj, so one gradient serves both; z_H entering the cycle is detached.
        var dL = network.backward(dH, savedH, params: params, grads: &grads)
        var dX = [Float](repeating: 0, count: n)
        for saved in savedL.reversed() {
            dL = network.backward(dL, saved, params: params, grads: &grads)
            addInPlace(&dX, dL)
        }
        var dTokens = grads["embed_tokens.embedding_weight"]
        let (dRows, dPositions) = embedding.backward(dX, tokens: tokens, batch: batch, dTokenTable: &dTokens)
        grads["embed_tokens.embedding_weight"] = dTokens
        if let dPositions { grads.modify("embed_pos.embedding_weight") { addInPlace(&$0, dPositions) } }
        let puzzleGrads = hasPuzzle ? embedding.gradientByID(dRows, ids: puzzleIds) : []
        return Result(
            zH: hOut, zL: l, qHalt: (0..<batch).map { q[2 * $0] }, loss: lossResult, grads: grads,
            puzzleGrads: puzzleGrads)
    }
}
