"""Korean for the custody ledger's journal and replay (issue 20); see scripts/ko_messages.py."""

KO = {
    "the custody ledger records {table} {key}, but its {parent} {value} is neither stored nor a tombstone, so "
    "that row was not restored; restore the package's copies, then run `longwatch reindex` again":
        "관리 이력 원장에 {table} {key}이(가) 기록되어 있으나 그 {parent} {value}이(가) 보존되어 있지도 않고 "
        "파기 기록으로 남아 있지도 않아 그 행을 복원하지 않았습니다. 패키지 사본을 복원한 뒤 "
        "`longwatch reindex`를 다시 실행하십시오",
}
