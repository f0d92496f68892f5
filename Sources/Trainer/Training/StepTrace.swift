/// What one optimizer step drew at random, recorded so that another implementation of the training
/// semantics can replay the same step (`trm-train --trace`, tools/train_semantics.py): the examples
/// loaded into the refilled slots and each slot's exploration minimum, with the q_halt and halting
/// decisions that followed. Everything else in the step (the carry, the ACT step, the losses, halting,
/// SignSGD, AdamATan2, EMA) is a function of these and the weights.
public struct StepTrace: Sendable, Equatable {
    /// An example loaded into a halted slot before the step.
    public struct Refill: Sendable, Equatable {
        public var slot: Int
        public var tokens: [Int32]
        public var labels: [Int32]
        public var puzzleId: Int32
    }

    public var step: Int
    /// In slot order.
    public var refills: [Refill]
    /// Per slot: the fewest ACT steps exploration required this step (0: it did not explore).
    public var minSteps: [Int]
    /// Per slot: the step's q_halt logit, and whether the slot halted.
    public var qHalt: [Float]
    public var halted: [Bool]

    /// One JSON object on one line (the trace file is JSON lines, one per step).
    public var jsonLine: String {
        func list<T>(_ xs: [T]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }
        let refillText = refills.map {
            "{\"slot\":\($0.slot),\"tokens\":\(list($0.tokens)),\"labels\":\(list($0.labels)),\"puzzle_id\":\($0.puzzleId)}"
        }
        return "{\"step\":\(step),\"refills\":[\(refillText.joined(separator: ","))],\"min_steps\":\(list(minSteps)),"
            + "\"q_halt\":\(list(qHalt.map { Double($0) })),\"halted\":\(list(halted))}"
    }
}
