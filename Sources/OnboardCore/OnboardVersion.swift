/// The kit's version: `onboard --version` prints it, and sharded runs record it so parts made by
/// other builds are not merged together.
public enum OnboardVersion {
    public static let current = "0.4.0"
}
