import Compiler
import Foundation
import GraphIR
import Runtime
import Testing
import TRMCore

/// The caps of `ModelLimits` and the plan checks, at the level of the library calls every entry
/// point shares (issue: hardening, second round, defects 3-5).
@Suite struct LimitsAndPlanTests {
    static func config(_ edit: (inout ModelConfig) -> Void) -> ModelConfig {
        var c = Preset.trMamba2Attn.config(task: .sudoku, grid: 9)
        edit(&c)
        return c
    }

    @Test func referenceSizesAreWithinEveryCap() throws {
        for preset in Preset.allCases {
            for task in TaskKind.allCases { try preset.config(task: task).validate() }
        }
        // The largest allowed recursion for four sub-layers: 16 × (15 + 1) × 4 = 1024 applications.
        try Self.config {
            $0.hCycles = 16; $0.lCycles = 15
        }.validate()
    }

    @Test func capsRefuseWhatWouldRunAway() {
        let cases: [(String, ModelConfig, String)] = [
            (
                "1e6 cycles",
                Self.config {
                    $0.hCycles = 1_000_000; $0.lCycles = 1_000_000
                }, "at most 256"
            ),
            (
                "200 × 200",
                Self.config {
                    $0.hCycles = 200; $0.lCycles = 200
                }, "sub-layer applications"
            ),
            (
                "one past the applications cap",
                Self.config {
                    $0.hCycles = 16; $0.lCycles = 16
                }, "sub-layer applications"
            ),
            ("halt 1025", Self.config { $0.haltMaxSteps = 1025 }, "halt_max_steps"),
            (
                "10 TFLOP step",
                Self.config {
                    $0.hidden = 8192; $0.heads = 64; $0.seqLen = 4096
                }, "FLOP"
            ),
        ]
        for (what, config, mentions) in cases {
            #expect(throws: TRMError.self, "\(what)") { try config.validate() }
            do { try config.validate() } catch { #expect("\(error)".contains(mentions), "\(what): \(error)") }
        }
    }

    @Test func stepFlopsMatchTheCompiledGraph() throws {
        // The config-level estimate (what the cap checks) against the FlopCounter on the lowered graph,
        // which also counts elementwise work: the products dominate.
        let ckpt = try Models.checkpoint(.trmAttn)
        let counted = try FlopCounter.flopsPerSample(try Lowering.lower(ckpt))
        let estimate = ckpt.config.stepFlopsPerSample
        #expect(estimate <= counted && estimate > 0.8 * counted, "estimate \(estimate), counted \(counted)")
    }

    @Test func opCostSplitsWhatFlopCounterSums() throws {
        let model = try Self.compiled()
        let cost = OpCost.perSample(model.graph, types: try Verifier.verify(model.graph))
        #expect(cost.gemm > 0 && cost.scan > 0 && cost.other > 0)
        #expect(cost.total == (try FlopCounter.flopsPerSample(model.graph)))
        #expect(cost.gemm > cost.scan + cost.other, "the products dominate even a tiny step: \(cost)")
    }

    static func compiled() throws -> TrmgModel { try TRMCompiler.compile(try Models.checkpoint(.trMamba2Attn)).0 }

    @Test func compiledPlansPassAndForgedOnesAreRefused() throws {
        let model = try Self.compiled()
        let types = try Verifier.verify(model.graph)
        _ = try model.plan.validate(graph: model.graph, types: types)
        _ = try LoadedModel(model)
        #expect(
            model.plan.workspaceBytes > 0 && model.plan.workspaceBytes == KernelWorkspace(graph: model.graph, types: types).bytesPerThread)
        let forgeries: [(String, (inout ModelPlan) -> Void, String)] = [
            ("10 GiB arena", { $0.arenaBytesPerSample = 10 << 30 }, "arena"),
            ("arena one alignment short", { $0.arenaBytesPerSample -= ModelPlan.alignment }, "arena"),
            ("inflated placement", { $0.placements[0].bytesPerSample += 64 }, "placed as"),
            (
                "far placement",
                {
                    $0.placements[0].offset = 1 << 33; $0.arenaBytesPerSample = (1 << 33) + $0.placements[0].bytesPerSample
                }, "arena"
            ),
            ("halt 1e6", { $0.haltMaxSteps = 1_000_000 }, "halt_max_steps"),
            ("halt unlike the config", { $0.haltMaxSteps = 7 }, "disagrees"),
            ("halt 0", { $0.haltMaxSteps = 0 }, "halt_max_steps"),
        ]
        for (what, edit, mentions) in forgeries {
            var forged = model
            edit(&forged.plan)
            #expect("\(Self.error { _ = try forged.plan.validate(graph: forged.graph, types: types) })".contains(mentions), "\(what)")
            #expect(Self.error { _ = try LoadedModel(forged) } != nil, "\(what): the loader accepted it")
            // From bytes, as trm-run, trm-info and the C API open files.
            let bytes = try TrmgWriter.serialize(forged)
            #expect(Self.error { _ = try LoadedModel(bytes: bytes) } != nil, "\(what): the loader accepted its bytes")
        }
        var wrongWorkspace = model
        wrongWorkspace.plan.workspaceBytes = 0
        #expect("\(Self.error { _ = try LoadedModel(wrongWorkspace) })".contains("workspace"))
    }

    @Test func graphsOverTheNodeCapAreRefusedBeforeVerification() throws {
        var model = try Self.compiled()
        let node = model.graph.nodes[0]
        model.graph.nodes = Array(repeating: node, count: ModelLimits.maxStepNodes + 1)
        #expect("\(Self.error { _ = try LoadedModel(model) })".contains("nodes"))
    }

    @Test func noProbeSessionIsNeededForTheSignature() throws {
        let model = try LoadedModel(try Self.compiled())
        let s = try model.stepSignature()
        #expect(s.seqLen == 16 && s.vocabOut == 6 && s.vocabIn == 6 && s.numPuzzleIds == 1)
        #expect(throws: TRMError.self) { try s.validate(tokens: [6] + [Int32](repeating: 0, count: 15), puzzleIds: nil, count: 1) }
        #expect(throws: TRMError.self) { try s.validate(tokens: [Int32](repeating: 0, count: 16), puzzleIds: [1], count: 1) }
        let runner = try ACTRunner(session: Session(model: model, batch: 1, threads: 1))
        #expect(throws: TRMError.self) {
            _ = try runner.run(tokens: [Int32](repeating: 0, count: 16), puzzleIds: nil, count: 1, maxSteps: 1025)
        }
    }

    static func error(_ body: () throws -> Void) -> Error? {
        do { try body(); return nil } catch { return error }
    }
}
