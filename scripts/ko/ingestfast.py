"""Korean translations of the ingest command's early pass and the readiness of an emptied storage folder (issue 23)."""

KO = {
    "not ready: storage location {location} is empty where the catalog records packages or the custody "
    "ledger's mirror (a mount that failed leaves an empty folder): mount the storage, then start again":
        "준비되지 않았습니다: 카탈로그에는 저장 위치 {location}에 패키지나 관리 연속성 원장의 미러가 기록되어 "
        "있으나 그 위치가 비어 있습니다(마운트에 실패하면 빈 폴더가 남습니다). 저장소를 마운트한 뒤 다시 "
        "시작하십시오",
}
