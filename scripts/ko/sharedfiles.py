"""Korean for exports, request deliveries and destruction certificates in the object store (issue 20, item 7)."""

KO = {
    "{key} is no place for the archive's own objects: packages, the custody ledger's mirror and staging "
    "keep their prefixes to themselves":
        "{key}에는 아카이브 자체 객체를 둘 수 없습니다: 패키지, 관리 연속성 원장 미러, 준비 영역의 접두어는 "
        "그것들만 씁니다",
    "{key} on storage location {location} already holds other bytes; a record written once is never "
    "overwritten":
        "저장 위치 {location}의 {key}에 이미 다른 바이트가 있습니다. 한 번 기록한 기록은 덮어쓰지 않습니다",
    "export {export_id} is not in the store: it is not finished yet, or it was deleted":
        "내보내기 {export_id}이(가) 저장소에 없습니다: 아직 끝나지 않았거나 삭제되었습니다",
    "the destruction certificate of disposition {disposition_id} is not in the store ({key} on storage "
    "location {location}): check the location, or restore it from a replica":
        "처분 {disposition_id}의 파기 확인서가 저장소에 없습니다 (저장 위치 {location}의 {key}): 저장 위치를 "
        "확인하거나 복제본에서 복원하십시오",
    "Copy the certificate's files from the store into this folder.":
        "확인서 파일을 저장소에서 이 폴더로 복사합니다.",
    "The destruction certificate of a disposition (id or certificate file); --verify checks it, -o copies it.":
        "처분의 파기 확인서(ID 또는 확인서 파일). --verify로 검증하고, -o로 복사합니다.",
}
