import Foundation
import GraphIR

/// How the settings a run was saved with differ from the ones it is resumed with: both are JSON
/// objects (`TrainingOptions.json`, `ModelConfig.jsonString()`), compared field by field so that a
/// refused `--resume` names what changed instead of printing both objects.
public enum SettingsDifference {
    /// One entry per field whose value differs, in field-name order, as `lr differs (saved 0.0001,
    /// now 0.0003)` (a field only one side has is `absent` on the other); empty when they agree, nil
    /// when either text is not a JSON object. Fields in `ignoring` are not compared.
    public static func fields(saved: String, now: String, ignoring: Set<String> = []) -> [String]? {
        guard let old = object(saved), let new = object(now) else { return nil }
        return Set(old.keys).union(new.keys).subtracting(ignoring).sorted().compactMap { key in
            let before = old[key].map(text), after = new[key].map(text)
            return before == after ? nil : "\(key) differs (saved \(before ?? "absent"), now \(after ?? "absent"))"
        }
    }

    /// The number a JSON object holds under `key`, if it is an integer.
    static func integer(_ json: String, _ key: String) -> Int? {
        object(json)?[key].flatMap(JSONText.int)
    }

    private static func object(_ json: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    /// A parsed JSON value as compact JSON text (strings bare), so equal values print and compare equal.
    private static func text(_ value: Any) -> String {
        if let s = value as? String { return s }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            return "\(value)"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
