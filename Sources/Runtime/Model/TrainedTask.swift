import Foundation

extension LoadedModel {
    /// The task the model was compiled for ("arc", "sudoku" or "maze": the `task` fact of the plan's
    /// task JSON), nil when the plan does not say (a model compiled from a bare graph).
    public var trainedTask: String? {
        guard let facts = try? JSONSerialization.jsonObject(with: Data(plan.taskJSON.utf8)) as? [String: Any] else { return nil }
        return facts["task"] as? String
    }
}
