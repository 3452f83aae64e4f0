import Foundation
import OnboardCore

/// Checks every foreign token of the 13 tables; the first dangling one is an error naming the file,
/// the record and the missing token.
enum NuScenesTableValidation {
    static func validate(_ t: NuScenesTables, directory: String) throws {
        func check<R: NuScenesRecord, T: NuScenesRecord>(
            _ record: R, _ field: String, _ token: String, in table: NuScenesTable<T>, optional: Bool = false
        ) throws {
            if optional && token.isEmpty { return }
            guard table.contains(token) else {
                throw OnboardError.format(
                    path: (directory as NSString).appendingPathComponent("\(R.tableName).json"),
                    item: "\(R.tableName) \(record.token)",
                    reason: "\(field) '\(token)' is not in \(T.tableName).json")
            }
        }
        for r in t.instance.records {
            try check(r, "category_token", r.category_token, in: t.category)
            try check(r, "first_annotation_token", r.first_annotation_token, in: t.sampleAnnotation)
            try check(r, "last_annotation_token", r.last_annotation_token, in: t.sampleAnnotation)
        }
        for r in t.calibratedSensor.records { try check(r, "sensor_token", r.sensor_token, in: t.sensor) }
        for r in t.scene.records {
            try check(r, "log_token", r.log_token, in: t.log)
            try check(r, "first_sample_token", r.first_sample_token, in: t.sample)
            try check(r, "last_sample_token", r.last_sample_token, in: t.sample)
        }
        for r in t.sample.records {
            try check(r, "scene_token", r.scene_token, in: t.scene)
            try check(r, "prev", r.prev, in: t.sample, optional: true)
            try check(r, "next", r.next, in: t.sample, optional: true)
        }
        for r in t.sampleData.records {
            try check(r, "sample_token", r.sample_token, in: t.sample)
            try check(r, "ego_pose_token", r.ego_pose_token, in: t.egoPose)
            try check(r, "calibrated_sensor_token", r.calibrated_sensor_token, in: t.calibratedSensor)
            try check(r, "prev", r.prev, in: t.sampleData, optional: true)
            try check(r, "next", r.next, in: t.sampleData, optional: true)
        }
        for r in t.sampleAnnotation.records {
            try check(r, "sample_token", r.sample_token, in: t.sample)
            try check(r, "instance_token", r.instance_token, in: t.instance)
            try check(r, "visibility_token", r.visibility_token, in: t.visibility, optional: true)
            for token in r.attribute_tokens { try check(r, "attribute_tokens", token, in: t.attribute) }
            try check(r, "prev", r.prev, in: t.sampleAnnotation, optional: true)
            try check(r, "next", r.next, in: t.sampleAnnotation, optional: true)
        }
        for r in t.map.records {
            for token in r.log_tokens { try check(r, "log_tokens", token, in: t.log) }
        }
    }
}
