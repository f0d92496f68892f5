import Testing
@testable import GraphIR
import TRMCore

@Suite struct ModelConfigTests {
    /// docs/model.md §2.3 / issue acceptance: exact counts (puzzle table, H_init and L_init excluded).
    @Test(arguments: [
        (Preset.trmAttn, TaskKind.arc, 6_829_058), (.trMamba2Attn, .arc, 6_860_386),
        (.trmMlpT, .sudoku, 5_028_866), (.trMamba2MlpT, .sudoku, 5_959_778),
        (.trmAttn, .maze, 6_822_914), (.trmAttn, .sudoku, 6_828_034),
        (.trMamba2Attn, .sudoku, 6_859_362), (.trmMlpT, .arc, 18_801_666), (.trMamba2MlpT, .arc, 12_846_690),
    ])
    func presetParameterCounts(preset: Preset, task: TaskKind, expected: Int) throws {
        let c = preset.config(task: task)
        try c.validate()
        #expect(c.parameterCount == expected)
    }

    @Test func referenceWidthsAndNames() throws {
        #expect(ModelConfig.swiGLUWidth(512, 4) == 1536)
        #expect(ModelConfig.swiGLUWidth(97, 4) == 512)
        #expect(ModelConfig.swiGLUWidth(916, 4) == 2560)
        let c = Preset.trMamba2Attn.config(task: .arc)
        #expect(
            c.sublayerPrefixes.map(\.prefix) == [
                "L_level.layers.0.mamba2.0", "L_level.layers.0.mamba2.1",
                "L_level.layers.0.self_attn", "L_level.layers.0.mlp",
            ])
        let t = Preset.trmAttn.config(task: .arc)
        #expect(
            t.sublayerPrefixes.map(\.prefix) == [
                "L_level.layers.0.self_attn", "L_level.layers.0.mlp",
                "L_level.layers.1.self_attn", "L_level.layers.1.mlp",
            ])
        let specs = Dictionary(uniqueKeysWithValues: c.parameterSpecs.map { ($0.name, $0.shape) })
        #expect(specs["L_level.layers.0.mamba2.1.in_proj.weight"] == [2320, 512])
        #expect(specs["L_level.layers.0.mamba2.0.conv1d.weight"] == [1280, 1, 4])
        #expect(specs["puzzle_emb.weights"] == [1, 512])
        #expect(c.fullSeqLen == 916)
    }

    @Test func designDocumentExampleParses() throws {
        let json = """
            {"hidden": 512, "heads": 8, "expansion": 4, "sublayers": ["mamba2", "mamba2", "attn", "mlp"],
             "H_cycles": 3, "L_cycles": 4, "halt_max_steps": 16, "vocab": 12, "seq_len": 900,
             "puzzle_emb_len": 16, "puzzle_emb_ndim": 512, "num_puzzle_ids": 1, "pos_encodings": "rope",
             "rope_theta": 10000, "rms_eps": 1e-5,
             "mamba": {"d_state": 128, "d_conv": 4, "expand": 2, "headdim": 64, "ngroups": 1, "direction": "causal"}}
            """
        let c = try ModelConfig.parse(json: json)
        #expect(c == Preset.trMamba2Attn.config(task: .arc))
        #expect(try ModelConfig.parse(json: c.jsonString()) == c)
    }

    @Test func badConfigsAreRefused() throws {
        let good = Preset.trmAttn.config(task: .arc).jsonString()
        #expect(throws: TRMError.self) { try ModelConfig.parse(json: "") }
        #expect(throws: TRMError.self) { try ModelConfig.parse(json: "[1]") }
        #expect(throws: TRMError.self) {
            try ModelConfig.parse(json: good.replacingOccurrences(of: "\"hidden\":512", with: "\"hidden\":-1"))
        }
        #expect(throws: TRMError.self) { try ModelConfig.parse(json: good.replacingOccurrences(of: "\"heads\":8", with: "\"heads\":7")) }
        #expect(throws: TRMError.self) { try ModelConfig.parse(json: good.replacingOccurrences(of: "\"attn\"", with: "\"conv\"")) }
        #expect(throws: TRMError.self) {
            try ModelConfig.parse(json: good.replacingOccurrences(of: "\"vocab\":12", with: "\"vocabulary\":12"))
        }
        #expect(throws: TRMError.self) {
            try ModelConfig.parse(json: good.replacingOccurrences(of: "\"puzzle_emb_ndim\":512", with: "\"puzzle_emb_ndim\":9000"))
        }
    }

    @Test func overridesMakeSmallModels() throws {
        var o = ConfigOverrides()
        o.hidden = 64
        o.hCycles = 2
        o.lCycles = 2
        let c = try o.apply(to: Preset.trMamba2Attn.config(task: .sudoku, grid: 4))
        #expect(c.hidden == 64 && c.puzzleEmbNdim == 64 && c.seqLen == 16 && c.vocab == 6)
        #expect(c.mambaHeads == 2 && c.mlpWidth == 256)
        o.headdim = 48
        #expect(throws: TRMError.self) { try o.apply(to: Preset.trMamba2Attn.config(task: .arc)) }
    }
}
