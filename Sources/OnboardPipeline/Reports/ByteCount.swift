import Foundation

/// Byte sizes for people: B, KiB or MiB.
public enum ByteCount {
    public static func text(_ bytes: Int) -> String {
        if bytes >= 1 << 20 { return String(format: "%.2f MiB", Double(bytes) / 1048576) }
        if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return "\(bytes) B"
    }
}
