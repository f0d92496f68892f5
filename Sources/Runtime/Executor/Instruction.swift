import GraphIR
import TRMCore

/// fp32 values of the step graph: in the weights or the session's arena.
typealias ValuePointer = UnsafeMutablePointer<Float>

/// One node of the step graph with every pointer and size resolved for a session's batch size, so
/// running a step only walks a list of them (no lookups, no allocation): the named arguments of
/// its kernel (`MatMulArgs`, `ScanGateArgs`, …). An instruction declares how its work divides: a
/// list of phases run one after another (every part of a phase finishes before the next one
/// starts), each over its own work items (rows, samples, (sample, head) pairs), which the executor
/// splits into parts over the session's threads. Most instructions have a single phase; the fused
/// Mamba-2 layer has three per sample, or one of whole samples where the threads divide the batch.
protocol Instruction {
    /// The phases, in order. Read once, when the program is built.
    var phases: [WorkPhase] { get }

    /// Runs work items `items` of phase `phase` on the calling thread. Only instructions whose
    /// phases run as one part (`WorkPhase.serial`) may throw.
    func run(phase: Int, items: Range<Int>, _ context: PartContext) throws(TRMError)
}

extension Instruction {
    /// One phase that is not split.
    var phases: [WorkPhase] { [.serial] }
}

/// One phase of an instruction: how many work items it has and the fewest worth a part of their own.
struct WorkPhase {
    var items: Int
    var minPerPart: Int

    /// A phase run as a single part on the calling thread.
    static let serial = WorkPhase(items: 1, minPerPart: 1)

    /// Parts to split the phase into on `threads` threads.
    func parts(threads: Int) -> Int { max(1, min(threads, items / minPerPart)) }

    /// The items of part `part` of `parts`.
    func items(part: Int, of parts: Int) -> Range<Int> { (items * part / parts)..<(items * (part + 1) / parts) }
}

/// What one part of an instruction runs with: its thread's workspace, the buffer all threads share
/// and, of the same size, one of the part's own (for an instruction whose parts each do the work a
/// shared buffer serves, one after another).
struct PartContext {
    let scratch: UnsafeMutablePointer<Float>
    let shared: UnsafeMutablePointer<Float>
    let partShared: UnsafeMutablePointer<Float>
}

/// An instruction together with the phases it declares, as the executor runs it.
struct Step {
    let instruction: any Instruction
    let phases: [WorkPhase]

    init(_ instruction: any Instruction) {
        self.instruction = instruction
        phases = instruction.phases
    }
}

/// The kernel dispatch of a session. Every instruction runs the same way: its phases one after
/// another, each split into parts over its work items and run on the session's thread pool
/// (OpenBLAS is called single-threaded inside a part).
extension Session: PartRunner {
    func execute(_ index: Int) throws {
        for (phase, work) in program[index].phases.enumerated() {
            pool.run(parts: work.parts(threads: threads), self, PartTag(index: index, phase: phase))
        }
        if let failure = partFailure {
            partFailure = nil
            throw failure
        }
    }

    func runPart(_ tag: PartTag, part: Int, of parts: Int) {
        // Read in place from `program`, not copied out for every part.
        let items = program[tag.index].phases[tag.phase].items(part: part, of: parts)
        let copy = sharedCopies == 1 ? 0 : part
        let context = PartContext(
            scratch: scratch(part), shared: shared.floats(at: 0), partShared: shared.floats(at: copy * model.workspace.sharedFloats * 4))
        do throws(TRMError) {
            try program[tag.index].instruction.run(phase: tag.phase, items: items, context)
        } catch {
            // Only single-part phases throw (`Instruction.run`), so no other part writes this.
            partFailure = error
        }
    }
}
