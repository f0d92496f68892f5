import GraphIR
import Synchronization
import TRMCore

/// How the ACT loop decides that a sample is done.
public enum Halting: String, Sendable, CaseIterable {
    /// Always `halt_max_steps` steps: the reference's evaluation behaviour.
    case fixed
    /// Halt when q_halt > 0 or at `halt_max_steps`; the slot is refilled from the queue.
    case adaptive
}

/// Final outputs of a solve, one row per sample, in input order.
public struct ACTResult: Sendable {
    /// [N, L, V] logits of each sample's last ACT step.
    public var logits: [Float]
    /// [N, L] argmax of the logits.
    public var preds: [Int32]
    /// [N] q_halt of the last step.
    public var qHalt: [Float]
    /// [N] ACT steps each sample ran.
    public var steps: [Int32]
    /// Step graphs executed (each on a whole batch).
    public var batchSteps: Int
}

/// A request to stop a run between two ACT steps, settable from any thread (an embedder's UI thread,
/// a progress callback). `ACTRunner.run` checks it before each step and throws `ACTCancelled`.
public final class CancellationFlag: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    /// Asks the current (or, when idle, the next) run to stop at its next step boundary.
    public func cancel() { requested.store(true, ordering: .releasing) }

    /// Whether a stop was asked for and not yet answered.
    public var isCancelled: Bool { requested.load(ordering: .acquiring) }

    /// Answers the request: the run that stopped clears it, so the next run starts clean.
    public func clear() { requested.store(false, ordering: .releasing) }
}

/// Thrown by `ACTRunner.run` when its `CancellationFlag` was set: the run stopped between two ACT
/// steps and its partial results are dropped; the session is intact and may run again.
public struct ACTCancelled: Error, CustomStringConvertible {
    public var description: String { "cancelled between two ACT steps" }
}

/// The ACT loop (docs/model.md §7.1): runs samples through the step graph in batch slots, carrying z_H
/// and z_L between steps, halting per `Halting` and refilling free slots from the queue.
public final class ACTRunner {
    public let session: Session
    /// The step graph's sizes: sequence length, vocabularies, puzzle ids.
    public let signature: StepSignature
    let tokensName = StepGraphNames.tokens, idsName = StepGraphNames.puzzleIds
    let logitsName = StepGraphNames.logits, qHaltName = StepGraphNames.qHalt
    public var seqLen: Int { signature.seqLen }
    public var vocabOut: Int { signature.vocabOut }
    public var vocabIn: Int { signature.vocabIn }
    public var numPuzzleIds: Int { signature.numPuzzleIds }
    /// Checked before every ACT step of `run`; nil: runs are never cancelled.
    public var cancellation: CancellationFlag?
    /// Carry bindings resolved to pointers and initial vectors once, so a step allocates nothing.
    let carries: [(from: UnsafeMutablePointer<Float>, to: UnsafeMutablePointer<Float>, initial: [Float], perSample: Int)]

    public init(session: Session) throws {
        self.session = session
        signature = try session.model.stepSignature()
        carries = try session.model.plan.carry.map { c in
            // ModelPlan.validate checked the vector when the model was loaded.
            guard let initial = c.initialVector(in: session.model.graph) else {
                throw TRMError(.invalidGraph, "carry \(c.from) -> \(c.to) has no initial value")
            }
            return (session.pointer(c.from), session.pointer(c.to), initial, session.count(c.to)! / session.batch)
        }
    }

    /// Solves `count` samples: tokens [count, L], puzzleIds [count] (nil: all 0).
    public func run(
        tokens: [Int32], puzzleIds: [Int32]?, count: Int, halting: Halting = .fixed, maxSteps: Int? = nil,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> ACTResult {
        let l = seqLen, b = session.batch
        try signature.validate(tokens: tokens, puzzleIds: puzzleIds, count: count)
        let ids = puzzleIds ?? [Int32](repeating: 0, count: count)
        let limit = maxSteps ?? session.model.plan.haltMaxSteps
        guard limit >= 1, limit <= ModelLimits.maxHaltSteps else {
            throw TRMError(.invalidInput, "the ACT step limit must be 1...\(ModelLimits.maxHaltSteps), got \(limit)")
        }

        _ = try AlignedBuffer.checkedSize(count, (l * vocabOut + l + 2) * 4, what: "the results of \(count) samples")
        var result = ACTResult(
            logits: [Float](repeating: 0, count: count * l * vocabOut), preds: [Int32](repeating: 0, count: count * l),
            qHalt: [Float](repeating: 0, count: count), steps: [Int32](repeating: 0, count: count), batchSteps: 0)
        var slots = [Int?](repeating: nil, count: b)
        var slotSteps = [Int](repeating: 0, count: b)
        var next = 0, done = 0
        let tokPtr = session.pointer(tokensName, as: Int32.self)
        let idPtr = session.pointer(idsName, as: Int32.self)
        func load(_ slot: Int) {
            if next < count {
                slots[slot] = next
                for i in 0..<l { tokPtr[slot * l + i] = tokens[next * l + i] }
                idPtr[slot] = ids[next]
                next += 1
            } else {
                slots[slot] = nil
                for i in 0..<l { tokPtr[slot * l + i] = 0 }
                idPtr[slot] = 0
            }
            slotSteps[slot] = 0
            resetCarry(slot)
        }
        for s in 0..<b { load(s) }
        let logits = session.pointer(logitsName), q = session.pointer(qHaltName)
        while slots.contains(where: { $0 != nil }) {
            if let cancellation, cancellation.isCancelled {
                cancellation.clear()
                throw ACTCancelled()
            }
            try session.step()
            result.batchSteps += 1
            for s in 0..<b {
                guard let sample = slots[s] else { continue }
                slotSteps[s] += 1
                let halt = slotSteps[s] >= limit || (halting == .adaptive && q[s] > 0)
                if halt {
                    let src = logits + s * l * vocabOut
                    for i in 0..<(l * vocabOut) { result.logits[sample * l * vocabOut + i] = src[i] }
                    for t in 0..<l {
                        let row = src + t * vocabOut
                        var best = 0
                        for v in 1..<vocabOut where row[v] > row[best] { best = v }
                        result.preds[sample * l + t] = Int32(best)
                    }
                    result.qHalt[sample] = q[s]
                    result.steps[sample] = Int32(slotSteps[s])
                    done += 1
                    load(s)
                } else {
                    advanceCarry(s)
                }
            }
            progress?(done, count)
        }
        return result
    }

    /// Step-level use: validates and loads `session.batch` samples into the slots with fresh carries.
    public func load(tokens: [Int32], puzzleIds: [Int32]?) throws {
        let b = session.batch
        try signature.validate(tokens: tokens, puzzleIds: puzzleIds, count: b)
        let ids = puzzleIds ?? [Int32](repeating: 0, count: b)
        try session.setInput(tokensName, int32: tokens)
        try session.setInput(idsName, int32: ids)
        for s in 0..<b { resetCarry(s) }
    }

    /// Step-level use: one ACT step on every slot, then every carry advances to the step's outputs.
    public func stepAll() throws {
        try session.step()
        for s in 0..<session.batch { advanceCarry(s) }
    }

    /// Argmax of the last step's logits, [batch, L].
    public func predictions() -> [Int32] {
        let logits = session.pointer(logitsName)
        return (0..<(session.batch * seqLen)).map { r in
            let row = logits + r * vocabOut
            var best = 0
            for v in 1..<vocabOut where row[v] > row[best] { best = v }
            return Int32(best)
        }
    }

    /// A fresh slot: each carry input filled with its initial [D] vector on every position.
    func resetCarry(_ slot: Int) {
        for c in carries {
            let dst = c.to + slot * c.perSample
            c.initial.withUnsafeBufferPointer { v in
                for i in stride(from: 0, to: c.perSample, by: v.count) { (dst + i).update(from: v.baseAddress!, count: v.count) }
            }
        }
    }

    /// A continuing slot: each carry input takes the step's output.
    func advanceCarry(_ slot: Int) {
        for c in carries {
            let dst = c.to + slot * c.perSample, src = c.from + slot * c.perSample
            if dst != src { dst.update(from: src, count: c.perSample) }
        }
    }
}
