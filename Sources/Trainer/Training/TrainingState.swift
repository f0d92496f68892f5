import Foundation
import GraphIR
import TRMCore

/// The optimizer-state sidecar (`model.ckpt.state`): everything a run needs to continue bit for bit —
/// raw weights, AdamATan2 moments and step count, the EMA shadow, the training carry and the data
/// position — as a safetensors file with the model config in its metadata. The checkpoint itself
/// holds only the EMA weights (docs/model.md §9.6), which is not enough to resume.
public enum TrainingState {
    public static let formatTag = "trm-train-state/1"

    /// The sidecar's bytes for `run`.
    public static func serialize(_ run: TrainingRun) -> [UInt8] {
        var list: [NamedTensor] = []
        func add(_ name: String, _ values: [Float]) { list.append(NamedTensor(name: name, shape: [values.count], values: values)) }
        for name in run.params.names { add("param/" + name, run.params[name]) }
        for name in run.adam.m.keys.sorted() {
            add("adam.m/" + name, run.adam.m[name]!)
            add("adam.v/" + name, run.adam.v[name]!)
        }
        if let ema = run.ema { for name in ema.shadow.keys.sorted() { add("ema/" + name, ema.shadow[name]!) } }
        let c = run.carry
        add("carry/zH", c.zH)
        add("carry/zL", c.zL)
        add("carry/steps", c.steps.map(Float.init))
        add("carry/halted", c.halted.map { $0 ? 1 : 0 })
        add("carry/tokens", c.tokens.map(Float.init))
        add("carry/labels", c.labels.map(Float.init))
        add("carry/puzzle_ids", c.puzzleIds.map(Float.init))
        var metadata = [
            "trm.format": formatTag, "trm.config": run.config.jsonString(), "trm.task": run.taskJSON,
            "trm.options": run.options.json, "trm.step": "\(run.step)", "trm.sampler_position": "\(run.sampler.position)",
            "trm.adam_t": "\(run.adam.t)",
        ]
        if let origin = run.origin { metadata["trm.init"] = origin }
        if let ids = run.identifiers { metadata["trm.identifiers"] = "[" + ids.map(JSONText.quote).joined(separator: ",") + "]" }
        return Safetensors.serialize(list, metadata: metadata)
    }

    public static func write(_ run: TrainingRun, to path: String) throws {
        try AtomicFile.write(serialize(run), to: path)
    }

    /// Restores the sidecar at `path` into `run`, which must have been built with the same config and
    /// options (a run resumes only with the command that started it).
    public static func restore(path: String, into run: inout TrainingRun) throws {
        let bytes = try AtomicFile.read(path, limit: Checkpoint.maxFileBytes)
        do {
            try restore(bytes: bytes, into: &run)
        } catch let e as TRMError {
            throw TRMError(e.kind, "\(path): \(e.message)")
        }
    }

    public static func restore(bytes: [UInt8], into run: inout TrainingRun) throws {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "training state: \(why)") }
        let (list, metadata) = try Safetensors.parse(bytes)
        guard metadata["trm.format"] == formatTag else { throw fail("not a trm training state (no '\(formatTag)' tag)") }
        // A refusal names the fields that differ (`SettingsDifference`), not the whole settings.
        guard let configJSON = metadata["trm.config"] else { throw fail("no model config") }
        if try ModelConfig.parse(json: configJSON) != run.config {
            let fields = SettingsDifference.fields(saved: configJSON, now: run.config.jsonString()) ?? []
            throw fail(
                "it belongs to a model with another config: " + (fields.isEmpty ? "the configs differ" : fields.joined(separator: ", ")))
        }
        guard let savedOptions = metadata["trm.options"], let savedSteps = SettingsDifference.integer(savedOptions, "steps"),
            let fields = SettingsDifference.fields(saved: savedOptions, now: run.options.json, ignoring: ["steps"])
        else {
            throw fail("no readable training options")
        }
        guard fields.isEmpty else {
            throw fail(
                "it was written with other training options: \(fields.joined(separator: ", ")); resume with the options that started it")
        }
        // --steps may grow (train a finished run further) as long as the schedule does not depend on it.
        if savedSteps != run.options.steps, run.options.lrMinRatio < 1 {
            throw fail(
                "steps differs (saved \(savedSteps), now \(run.options.steps)): --steps can change on --resume only with a constant learning rate after warm-up (--lr-min-ratio 1)"
            )
        }
        guard let step = metadata["trm.step"].flatMap(Int.init), step >= 0,
            let position = metadata["trm.sampler_position"].flatMap(Int.init), position >= 0,
            let adamT = metadata["trm.adam_t"].flatMap(Int.init), adamT >= 0
        else {
            throw fail("missing or bad step counters")
        }
        let tensors = Dictionary(list.map { ($0.name, $0.values) }, uniquingKeysWith: { a, _ in a })
        func take(_ name: String, count: Int) throws -> [Float] {
            guard let v = tensors[name] else { throw fail("missing '\(name)'") }
            guard v.count == count else { throw fail("'\(name)' has \(v.count) values, expected \(count)") }
            return v
        }
        var params = run.params
        for name in params.names { params[name] = try take("param/" + name, count: params[name].count) }
        var adam = run.adam
        adam.t = adamT
        adam.m = [:]
        adam.v = [:]
        if adamT > 0 {
            for name in SupervisionStep.denseNames(run.config) {
                adam.m[name] = try take("adam.m/" + name, count: params[name].count)
                adam.v[name] = try take("adam.v/" + name, count: params[name].count)
            }
        }
        var ema = run.ema
        if ema != nil { for name in ema!.shadow.keys { ema!.shadow[name] = try take("ema/" + name, count: params[name].count) } }
        var carry = run.carry
        let n = carry.zH.count, b = carry.batch, l = carry.tokens.count
        carry.zH = try take("carry/zH", count: n)
        carry.zL = try take("carry/zL", count: n)
        carry.steps = try take("carry/steps", count: b).map { Int32($0) }
        carry.halted = try take("carry/halted", count: b).map { $0 != 0 }
        carry.tokens = try take("carry/tokens", count: l).map { Int32($0) }
        carry.labels = try take("carry/labels", count: l).map { Int32($0) }
        carry.puzzleIds = try take("carry/puzzle_ids", count: b).map { Int32($0) }
        guard carry.tokens.allSatisfy({ $0 >= 0 && Int($0) < run.config.vocab }),
            carry.puzzleIds.allSatisfy({ $0 >= 0 && Int($0) < run.config.numPuzzleIds })
        else {
            throw fail("carry holds out-of-range tokens or puzzle ids")
        }
        run.params = params
        run.adam = adam
        run.ema = ema
        run.carry = carry
        run.sampler = ExampleSampler(count: run.sampler.count, seed: run.sampler.seed, position: position)
        run.step = step
        // The weights are the state's, so the record of where they started is too (none: a fresh start).
        run.origin = metadata["trm.init"]
    }
}
