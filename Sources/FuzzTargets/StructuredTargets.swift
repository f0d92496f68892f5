import Compiler
import Foundation
import GraphIR
import Runtime

// Structure-aware targets (FUZZING.md, "Structure-aware targets"). Byte mutations of a file almost
// never write a large number into a protobuf varint or a JSON value, so the byte-level targets never
// reach the semantic limits (cycle counts, arena sizes, step counts). These targets start from a
// valid small model built in-process once, and read the fuzz input as a short program of mutations
// of its config JSON or its .trmg plan, with values from a table of interesting numbers.
//
// Input layout: byte 0 picks the base model (and, for trmg-plan, 1 or 2 samples); then up to
// `maxMutations` mutations, each an opcode byte followed by its operands. Reads past the end give 0,
// so every input is a valid program. The tables below are append-only: the committed seeds index
// them by position.

// MARK: - base models

/// A small valid model (Sudoku 4×4, the seed sizes of make-seeds.sh) of one preset, its
/// checkpoint tensors and its compiled .trmg, built once per process.
struct BaseModel: Sendable {
    let preset: Preset
    let config: ModelConfig
    let taskJSON: String
    /// The tensors in `config.parameterSpecs` order.
    let tensors: [NamedTensor]
    let trmg: TrmgModel
    /// Every value name of the step graph (inputs, outputs, initializers, node outputs), then two that are none.
    let names: [String]

    static let all: [BaseModel] = Preset.allCases.map { preset in
        do {
            var o = ConfigOverrides()
            o.hidden = 16
            o.heads = 2
            o.expansion = 2
            o.hCycles = 2
            o.lCycles = 1
            o.haltMaxSteps = 2
            o.puzzleEmbLen = 1
            o.dState = 8
            o.headdim = 8
            let config = try o.apply(to: preset.config(task: .sudoku, grid: 4))
            let tensors = deterministicTensors(config)!
            let taskJSON = TaskKind.sudoku.taskJSON(grid: 4)
            let checkpoint = Checkpoint(
                config: config, taskJSON: taskJSON, tensors: Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) }))
            let (trmg, _) = try TRMCompiler.compile(checkpoint)
            let g = trmg.graph
            var names: [String] = []
            var seen = Set<String>()
            for n in g.inputs.map(\.name) + g.outputs.map(\.name) + g.initializers.map(\.name) + g.nodes.flatMap(\.outputs)
            where seen.insert(n).inserted { names.append(n) }
            return BaseModel(preset: preset, config: config, taskJSON: taskJSON, tensors: tensors, trmg: trmg, names: names + ["", "nope"])
        } catch {
            fatalError("fuzz base model \(preset.rawValue): \(error)")
        }
    }

    /// Most values `deterministicTensors` builds (4 MB of floats): a refit past it keeps the base tensors.
    static let maxRefitValues = 1 << 20

    /// Tensors for every spec of `config`, with small deterministic values; nil when they would
    /// hold more than `maxRefitValues` values.
    static func deterministicTensors(_ config: ModelConfig) -> [NamedTensor]? {
        let specs = config.parameterSpecs
        var total = 0
        for s in specs {
            var n = 1
            for d in s.shape {
                let (m, o) = n.multipliedReportingOverflow(by: d)
                guard !o else { return nil }
                n = m
            }
            let (t, o) = total.addingReportingOverflow(n)
            guard !o, t <= maxRefitValues else { return nil }
            total = t
        }
        return specs.enumerated().map { k, s in
            let n = s.shape.reduce(1, *)
            var state = UInt32(truncatingIfNeeded: k &* 2_654_435_761 &+ 12345)
            let values = (0..<n).map { _ -> Float in
                state = state &* 1_664_525 &+ 1_013_904_223
                return (Float(state >> 8) / Float(1 << 24) - 0.5) * 0.2
            }
            return NamedTensor(name: s.name, shape: s.shape, values: values)
        }
    }
}

// MARK: - the two targets

extension FuzzTarget {
    /// At most this many mutations per input.
    static let maxMutations = 16

    /// What the mutations of a structure-aware input do, one line each ("" for the byte-level targets).
    public func explain(_ bytes: [UInt8]) -> String {
        var p = FuzzProgram(bytes, explain: true)
        switch self {
        case .ckptConfig: _ = Self.mutatedCheckpoint(&p)
        case .trmgPlan: _ = Self.mutatedTrmg(&p)
        default: return ""
        }
        return p.log!.joined(separator: "\n")
    }

    /// The checkpoint bytes a ckpt-config program describes: the base tensors (or refitted ones)
    /// with the mutated `trm.config`, written by Safetensors directly (Checkpoint.serialize validates).
    static func mutatedCheckpoint(_ p: inout FuzzProgram) -> [UInt8] {
        let base = BaseModel.all[Int(p.byte()) % BaseModel.all.count]
        p.note("base \(base.preset.rawValue)")
        var doc = JSONDoc(base.config)
        var refit = false
        var identifiers: String?
        var applied = 0
        while !p.isAtEnd, applied < maxMutations {
            applied += 1
            let op = Int(p.byte()) % (JSONDoc.configOps + 2)
            switch op {
            case JSONDoc.configOps:
                refit = true
                p.note("refit tensors to the config")
            case JSONDoc.configOps + 1:
                let n = Interesting.count(&p)
                identifiers = "[" + [String](repeating: "\"p\"", count: n).joined(separator: ",") + "]"
                p.note("trm.identifiers: \(n) names")
            default:
                doc.mutate(op, &p, what: "config")
            }
        }
        let text = doc.text()
        var tensors = base.tensors
        if refit {
            if let c = try? ModelConfig.parse(json: text), let t = BaseModel.deterministicTensors(c) {
                tensors = t
            } else {
                p.note("(no refit: the config is refused or its tensors are too large)")
            }
        }
        var metadata = ["trm.format": Checkpoint.formatTag, "trm.config": text, "trm.task": base.taskJSON]
        if let identifiers { metadata["trm.identifiers"] = identifiers }
        return Safetensors.serialize(tensors, metadata: metadata)
    }

    /// `ckpt-config`: the mutated checkpoint goes through Checkpoint.parse and TRMCompiler.compile,
    /// and the compiled model through TrmgWriter, LoadedModel and one ACT step on a small arena.
    /// A compiled model that the runtime refuses is a bug (trm-compile must not write it).
    static func ckptConfig(_ bytes: [UInt8]) throws -> Bool {
        var p = FuzzProgram(bytes)
        let checkpoint = try Checkpoint.parse(mutatedCheckpoint(&p))
        let (compiled, _) = try TRMCompiler.compile(checkpoint)
        let file = try TrmgWriter.serialize(compiled)
        let model: LoadedModel
        do {
            model = try LoadedModel(bytes: file)
        } catch {
            fatalError("ckpt-config: the runtime refuses a model trm-compile wrote: \(error)")
        }
        // Within the caps a step may still be billions of FLOPs (seconds under ASan): bounded work,
        // but no use to a fuzzer that needs milliseconds per input, so only small steps are run.
        guard model.plan.arenaBytesPerSample <= maxSteppedArenaBytes, checkpoint.config.stepFlopsPerSample <= maxSteppedFlops else {
            return true
        }
        let runner = try ACTRunner(session: Session(model: model, batch: 1, threads: 1))
        let tokens = (0..<runner.seqLen).map { Int32($0 % max(1, runner.vocabIn)) }
        _ = try runner.run(tokens: tokens, puzzleIds: nil, count: 1, maxSteps: 1)
        return true
    }

    /// The model a trmg-plan program describes, and how many samples to run.
    static func mutatedTrmg(_ p: inout FuzzProgram) -> (TrmgModel, samples: Int) {
        let head = Int(p.byte())
        let base = BaseModel.all[head % BaseModel.all.count]
        let samples = 1 + head / BaseModel.all.count % 2
        p.note("base \(base.preset.rawValue), \(samples) sample(s)")
        var model = base.trmg
        var doc: JSONDoc?
        var applied = 0
        func name() -> String { base.names[p.u16() % base.names.count] }
        while !p.isAtEnd, applied < maxMutations {
            applied += 1
            var plan = model.plan
            let op = Int(p.byte()) % 18
            // The placement or carry binding an op works on (none when the list is empty).
            func pick(_ count: Int) -> Int? { let b = Int(p.byte()); return count == 0 ? nil : b % count }
            switch op {
            case 0:
                plan.haltMaxSteps = Interesting.int(&p, current: plan.haltMaxSteps)
                p.note("halt_max_steps = \(plan.haltMaxSteps)")
            case 1:
                plan.arenaBytesPerSample = Interesting.int(&p, current: plan.arenaBytesPerSample, aligned: true)
                p.note("arena_bytes_per_sample = \(plan.arenaBytesPerSample)")
            case 2:
                plan.naiveBytesPerSample = Interesting.int(&p, current: plan.naiveBytesPerSample, aligned: true)
                p.note("naive_bytes_per_sample = \(plan.naiveBytesPerSample)")
            case 3:
                plan.workspaceBytes = Interesting.int(&p, current: plan.workspaceBytes, aligned: true)
                p.note("workspace_bytes = \(plan.workspaceBytes)")
            case 4, 5, 6, 7, 8, 9:
                guard let i = pick(plan.placements.count) else { break }
                let old = plan.placements[i]
                switch op {
                case 4:
                    plan.placements[i].offset = Interesting.int(&p, current: old.offset, aligned: true)
                    p.note("placement \(old.name).offset = \(plan.placements[i].offset)")
                case 5:
                    plan.placements[i].bytesPerSample = Interesting.int(&p, current: old.bytesPerSample, aligned: true)
                    p.note("placement \(old.name).bytes_per_sample = \(plan.placements[i].bytesPerSample)")
                case 6:
                    plan.placements[i].name = name()
                    p.note("placement \(old.name) renamed \(plan.placements[i].name)")
                case 7:
                    plan.placements.remove(at: i)
                    p.note("placement \(old.name) removed")
                case 8:
                    plan.placements.append(old)
                    p.note("placement \(old.name) duplicated")
                default:
                    // A move that stays valid: a 64-aligned offset, and the arena grown to hold it.
                    let offset = max(0, Interesting.int(&p, current: old.offset, aligned: true)) / 64 * 64
                    plan.placements[i].offset = offset
                    let (end, o) = offset.addingReportingOverflow(old.bytesPerSample)
                    plan.arenaBytesPerSample = o ? Int.max : max(plan.arenaBytesPerSample, end)
                    p.note("placement \(old.name) moved to \(offset), arena_bytes_per_sample = \(plan.arenaBytesPerSample)")
                }
            case 10, 11, 12, 13:
                guard let i = pick(plan.carry.count) else { break }
                let old = plan.carry[i]
                switch op {
                case 10: plan.carry[i].from = name()
                case 11: plan.carry[i].to = name()
                case 12:
                    // The initial value found by name only (as in a version 1 plan), under a new name.
                    plan.carry[i].initial = name()
                    plan.carry[i].initialValues = nil
                default: plan.carry.remove(at: i)
                }
                let c = op == 13 ? nil : plan.carry[i]
                p.note(
                    "carry \(old.from) -> \(old.to) (\(old.initial)) "
                        + (c.map { "now \($0.from) -> \($0.to) (\($0.initial))" } ?? "removed"))
            case 14:
                let c = CarryBinding(from: name(), to: name(), initial: name())
                plan.carry.append(c)
                p.note("carry \(c.from) -> \(c.to) (\(c.initial)) added")
            case 15:
                if doc == nil { doc = JSONDoc(base.config) }
                doc!.mutate(Int(p.byte()) % JSONDoc.configOps, &p, what: "plan config")
            case 16:
                doc = nil
                plan.configJSON = "{}"
                p.note("plan config = {} (none)")
            default:
                let n = Interesting.count(&p)
                plan.identifiers = (0..<n).map { "p\($0)" }
                p.note("identifiers: \(n)")
            }
            model.plan = plan
        }
        if let doc { model.plan.configJSON = doc.text() }
        return (model, samples)
    }

    /// `trmg-plan`: the mutated model is written by TrmgWriter and read back by LoadedModel(bytes:);
    /// if accepted, a session of batch 1 runs `samples` samples with the model's own step limit
    /// (on an arena of at most `maxSteppedArenaBytes` per sample).
    static func trmgPlan(_ bytes: [UInt8]) throws -> Bool {
        var p = FuzzProgram(bytes)
        let (mutated, samples) = mutatedTrmg(&p)
        let model = try LoadedModel(bytes: try TrmgWriter.serialize(mutated))
        let runner = try ACTRunner(session: Session(model: model, batch: 1, threads: 1))
        guard model.plan.arenaBytesPerSample <= maxSteppedArenaBytes else { return true }
        let tokens = (0..<samples * runner.seqLen).map { Int32($0 % max(1, runner.vocabIn)) }
        let ids = (0..<samples).map { Int32($0 % max(1, runner.numPuzzleIds)) }
        _ = try runner.run(tokens: tokens, puzzleIds: ids, count: samples)
        return true
    }
}
