/// trm's version: printed by every tool's `--version`, written as the `.trmg` producer version and
/// returned by the C API's `trm_version`.
public enum TRMVersion {
    public static let string = "0.2.0"
}
