/// Every model family `config.json` can select, under its config string. Adding a family is one
/// line here plus its folder (its config type conforming to `ModelArchitecture`, `BackboneFamily`
/// or `NeckFamily`, and its builder).
public enum ModelRegistry {
    /// `config.json`'s `"architecture"`.
    public static let architectures = FamilyRegistry<any ModelArchitecture.Type>([
        ViTConfig.self,
        PETRConfig.self,
        VimConfig.self,
        BertConfig.self,
        GraphConfig.self,
    ]) { $0.configName }

    /// A detector's `"backbone": {"type": ...}`.
    public static let backbones = FamilyRegistry<any BackboneFamily.Type>([
        ViTFeatureConfig.self,
        ResNetConfig.self,
        VoVNetConfig.self,
        VimFeatureConfig.self,
    ]) { $0.configName }

    /// A detector's `"neck": {"type": ...}`.
    public static let necks = FamilyRegistry<any NeckFamily.Type>([
        CPFPNConfig.self,
    ]) { $0.configName }
}
