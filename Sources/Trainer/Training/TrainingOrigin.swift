import Foundation
import GraphIR
import Tasks

/// Where a run's starting weights came from, recorded in every checkpoint's `trm.train` as `"init"` and
/// kept in the state sidecar as `trm.init`, so that a model trained in stages (`trm-train --init`) names
/// the checkpoint each stage began from: its path, the SHA-256 of its bytes and its own `trm.train` record
/// (which names the stage before it in turn). A run from the reference initialisation has no origin.
public enum TrainingOrigin {
    /// The origin record (a JSON object) of a run that starts from the checkpoint `start` read from `path`.
    public static func json(path: String, start: Checkpoint) throws -> String {
        let hash = try ContentHash.sha256(path: path)
        return "{\"path\":\(JSONText.quote(path)),\"sha256\":\(JSONText.quote(hash)),\"train\":\(embedded(start.trainJSON))}"
    }

    /// A checkpoint's `trm.train` as a JSON value: the object itself when it parses as one (ours always
    /// does), as a string otherwise, so a foreign checkpoint's metadata cannot make the record unreadable.
    static func embedded(_ trainJSON: String?) -> String {
        guard let text = trainJSON else { return "null" }
        if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] { return text }
        return JSONText.quote(text)
    }
}
