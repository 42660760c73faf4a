"""Korean for the custody ledger's journal and replay (issue 20); see scripts/ko_messages.py."""

KO = {
    "the custody ledger records {table} {key}, but its {parent} {value} is neither stored nor a tombstone, so "
    "that row was not restored; restore the package's copies, then run `longwatch reindex` again":
        "관리 연속성 원장에 {table} {key}이(가) 기록되어 있으나 그 {parent} {value}이(가) 보존되어 있지도 않고 "
        "파기 기록으로 남아 있지도 않아 그 행을 복원하지 않았습니다. 패키지 사본을 복원한 뒤 "
        "`longwatch reindex`를 다시 실행하십시오",
    "the database {url} already holds catalog rows (table {table}); `longwatch db copy` fills only an "
    "empty database, so nothing was copied: create a new database and try again":
        "데이터베이스 {url}에 이미 카탈로그 행이 있습니다(테이블 {table}). `longwatch db copy`는 빈 데이터베이스만 "
        "채우므로 아무것도 복사하지 않았습니다. 새 데이터베이스를 만든 뒤 다시 시도하십시오",
    "the copy in {url} does not match the catalog it was made from ({detail}); the archive still uses "
    "its old catalog. Drop the new database and run `longwatch db copy` again":
        "{url}의 사본이 원래 카탈로그와 일치하지 않습니다({detail}). 아카이브는 여전히 기존 카탈로그를 사용합니다. "
        "새 데이터베이스를 삭제하고 `longwatch db copy`를 다시 실행하십시오",
    "Copied the catalog to {url}: {rows} rows in {tables} tables, {searches} searches answered alike, the "
    "custody ledger verified ({entries} entries).":
        "카탈로그를 {url}(으)로 복사했습니다: 테이블 {tables}개의 행 {rows}개, 같은 답을 낸 검색 {searches}건, "
        "관리 연속성 원장 검증 완료(항목 {entries}개).",
    "The archive now uses {url} (longwatch.toml, [catalog] url). Keep the old catalog file until you have "
    "checked the new one.":
        "이제 아카이브는 {url}을(를) 사용합니다(longwatch.toml의 [catalog] url). 새 카탈로그를 확인할 때까지 "
        "기존 카탈로그 파일을 보관하십시오.",
    "To switch, set [catalog] url in longwatch.toml (or LONGWATCH_CATALOG_URL) to the new URL, or run the "
    "command again with --switch on an empty database.":
        "전환하려면 longwatch.toml의 [catalog] url(또는 LONGWATCH_CATALOG_URL)을 새 URL로 설정하거나, 빈 "
        "데이터베이스에 --switch를 붙여 명령을 다시 실행하십시오.",
    "copying the catalog": "카탈로그 복사 중",
    "Copy the catalog (with the custody ledger's index) into an empty database, PostgreSQL when scaling "
    "out, and verify the copy.":
        "카탈로그(관리 연속성 원장의 색인 포함)를 빈 데이터베이스(규모를 키울 때는 PostgreSQL)로 복사하고 사본을 "
        "검증합니다.",
    # anchors (issue 21): what the archive publishes for outside checks
    "Evidence exports and packages from this archive are signed. Compare the signer's fingerprint in what you "
    "received with the fingerprints below, which this page publishes independently of any export. Keep a copy of "
    "the machine-readable version: a later rewrite of our custody ledger cannot match the checkpoints you kept.":
        "이 아카이브의 증거 내보내기 자료과 패키지에는 전자서명이 되어 있습니다. 받으신 자료에 들어 있는 서명자 지문을 "
        "아래 지문과 비교하십시오. 이 페이지는 내보내기 자료과 별도로 지문을 공개합니다. 기계가 읽을 수 있는 판을 "
        "보관해 두십시오. 나중에 관리 연속성 원장을 고쳐 쓰면 보관하신 체크포인트와 맞지 않게 됩니다.",
    "How to check our records": "기록 확인 방법",
    "Newest checkpoints of the custody ledger": "관리 연속성 원장의 최신 체크포인트",
    "No checkpoint has been signed yet.": "아직 서명된 체크포인트가 없습니다.",
    "SHA-256 fingerprint": "SHA-256 지문",
    "Signing certificates": "서명 인증서",
    "Wrote {certificates} certificates and {checkpoints} checkpoints to {path}":
        "인증서 {certificates}개와 체크포인트 {checkpoints}개를 {path}에 썼습니다",
    "time (UTC)": "시각(UTC)",
    "valid from": "유효 시작",
    "checkpoint {checkpoint} carries no time-stamp although a trusted time-stamp authority is "
    "configured: a token was stripped, or the authority was never reached (`longwatch custody "
    "checkpoint` time-stamps the next one)":
        "신뢰하는 시점확인 기관이 설정되어 있는데도 체크포인트 {checkpoint}에 타임스탬프가 없습니다. 토큰이 "
        "제거되었거나 기관에 연결되지 않았습니다(`longwatch custody checkpoint`가 다음 체크포인트에 타임스탬프를 "
        "받습니다)",
    "checkpoint {checkpoint}: its time-stamp token is dated {token_time} but the checkpoint says "
    "{note_time} (allowed: the same time up to {tolerance} s later): the token does not attest the "
    "checkpoint's time":
        "체크포인트 {checkpoint}: 타임스탬프 토큰의 시각은 {token_time}인데 체크포인트의 시각은 {note_time}입니다"
        "(허용: 같은 시각부터 {tolerance}초 뒤까지). 이 토큰은 체크포인트의 시각을 증명하지 못합니다",
    # witnesses (issue 21)
    "Kept the cosignature of {witness} for {size} entries: {path}":
        "{witness}의 부서명(항목 {size}개)을 보관했습니다: {path}",
    "fewer entries mean the ledger was truncated": "항목이 줄었다면 원장이 잘린 것입니다",
    "a different root at the same size is a second history": "같은 크기에 다른 루트가 있다면 두 번째 이력입니다",
    "give the consistency proof from the co-signed checkpoint (--proof)":
        "부서명한 체크포인트로부터의 일관성 증명을 지정하십시오(--proof)",
    "the consistency proof does not lead from the co-signed checkpoint to this one":
        "일관성 증명이 부서명한 체크포인트에서 이 체크포인트로 이어지지 않습니다",
    "it co-signs none of this ledger's checkpoints": "이 원장의 어느 체크포인트에 대한 부서명도 아닙니다",
    "this witness co-signed {origin} at {signed} entries (root {root}); it will not co-sign {size} "
    "entries: {detail}":
        "이 증인은 {origin}을(를) 항목 {signed}개(루트 {root})에서 부서명했으므로 항목 {size}개에는 부서명하지 "
        "않습니다: {detail}",
    "witness key: {detail}": "증인 키: {detail}",
    "witness {witness}: its cosignature does not hold for the ledger as it is now ({detail}): the "
    "ledger was rewritten or truncated after the witness co-signed it, or the cosignature is forged":
        "증인 {witness}: 그 부서명이 지금의 원장과 맞지 않습니다({detail}). 증인이 부서명한 뒤 원장이 다시 "
        "쓰였거나 잘렸거나, 부서명이 위조되었습니다",
    "Co-sign the custody checkpoints of an archive you watch (C2SP cosignature/v1); no archive needed.":
        "지켜보는 아카이브의 관리 연속성 체크포인트에 부서명합니다(C2SP cosignature/v1). 아카이브가 필요 없습니다.",
    "the destruction certificate {path} has no valid time-stamp from the trusted authority: {detail}":
        "파기 확인서 {path}에 신뢰하는 타임스탬프 기관의 유효한 타임스탬프가 없습니다: {detail}",
    "the storage-full purge destroys footage, so a second records manager approves it: give their "
    "token in LONGWATCH_APPROVER_TOKEN ({detail}); nothing was deleted":
        "저장 공간 부족 정리는 영상을 파기하므로 다른 기록관리 담당자가 승인해야 합니다. 그 담당자의 토큰을 "
        "LONGWATCH_APPROVER_TOKEN에 지정하십시오({detail}). 아무것도 지우지 않았습니다",
    "Storage full: remove expired, unheld continuous footage, oldest first, until the reserve is free.\n\n"
    "A second records manager approves it with their token in LONGWATCH_APPROVER_TOKEN.":
        "저장 공간 부족: 보존기간이 지나고 법적 보존 조치가 없는 연속 녹화 영상을 오래된 것부터, 예비 공간이 "
        "확보될 때까지 지웁니다.\n\n다른 기록관리 담당자가 LONGWATCH_APPROVER_TOKEN에 자기 토큰을 지정하여 "
        "승인합니다.",
    "WARNING the key is encrypted with a generated passphrase kept in {path}: move it off this "
    "disk (LONGWATCH_KEY_PASSPHRASE, a systemd credential or a file elsewhere named by "
    "passphrase_file) and delete the file":
        "경고 서명 키는 자동 생성한 암호문으로 암호화되었고 그 암호문은 {path}에 있습니다. 이 디스크 밖으로 "
        "옮기고(LONGWATCH_KEY_PASSPHRASE, systemd 자격 증명 또는 passphrase_file이 가리키는 다른 곳의 파일) "
        "이 파일은 지우십시오",
    "the custody ledger's mirror on location {location} has been unreachable since {since} (more than "
    "{minutes} minutes): nothing was appended, so that entries do not pile up that only the database holds; "
    "make the location reachable, then `longwatch custody mirror`":
        "저장 위치 {location}의 관리 연속성 원장 미러에 {since}부터({minutes}분 넘게) 접근할 수 없습니다. "
        "데이터베이스에만 있는 항목이 쌓이지 않도록 아무것도 추가하지 않았습니다. 저장 위치에 접근할 수 있게 한 뒤 "
        "`longwatch custody mirror`를 실행하십시오",
    "the custody ledger's mirror on location {location} holds {key} with other bytes than the database: the "
    "mirror or the database was edited; nothing was overwritten, run `longwatch custody verify`":
        "저장 위치 {location}의 관리 연속성 원장 미러에 있는 {key}의 내용이 데이터베이스와 다릅니다. 미러나 "
        "데이터베이스가 수정되었습니다. 아무것도 덮어쓰지 않았습니다. `longwatch custody verify`를 실행하십시오",
    "the custody ledger's mirror on location {location} holds {mirrored} entries but the database only {held}: "
    "the catalog is new or was restored from an older backup; nothing was appended. Run `longwatch reindex`, "
    "which restores the ledger from the mirror":
        "저장 위치 {location}의 관리 연속성 원장 미러에는 항목이 {mirrored}개 있으나 데이터베이스에는 {held}개뿐입니다. "
        "카탈로그가 새로 만들어졌거나 더 오래된 백업에서 복원되었습니다. 아무것도 추가하지 않았습니다. 미러에서 원장을 "
        "복원하는 `longwatch reindex`를 실행하십시오",
    "Kept the cosignature of {witness} for {size} entries": "{witness}의 {size}개 항목에 대한 공동 서명을 보관했습니다",
    "Restored the custody ledger: {count} entry": "관리 연속성 원장을 복원했습니다: 항목 {count}개",
    "Restored the custody ledger: {count} entries": "관리 연속성 원장을 복원했습니다: 항목 {count}개",
    "Restore from this location's mirror (default: the longest mirror, the primary's on a tie).":
        "이 저장 위치의 미러에서 복원합니다(기본값: 가장 긴 미러, 같으면 주 저장 위치의 미러).",
    "Write each location's mirror from entry 0 (objects already there are compared, not rewritten).":
        "각 저장 위치의 미러를 항목 0부터 씁니다(이미 있는 객체는 다시 쓰지 않고 비교합니다).",
    "Only this location (repeatable).": "이 저장 위치만(여러 번 지정할 수 있습니다).",
    "written": "기록 시각",
    "Bring the ledger's mirror on every storage location up to the newest checkpoint, and show how far each\n"
    "reaches. Exit status 1 when a location's mirror could not be written.":
        "모든 저장 위치의 원장 미러를 최신 체크포인트까지 맞추고, 각 미러가 어디까지 닿는지 보여 줍니다.\n"
        "어느 저장 위치의 미러를 쓰지 못하면 종료 상태는 1입니다.",
    "Restore the ledger into the catalog's database from its mirror on storage.\n\n"
    "For a database that was lost or restored from an older backup (`longwatch\n"
    "reindex` does this itself). Refuses when the mirror is not one unbroken\n"
    "chain matching every signed checkpoint, or differs from what the database\n"
    "still holds.":
        "저장소에 있는 미러에서 카탈로그 데이터베이스로 원장을 복원합니다.\n\n"
        "데이터베이스를 잃었거나 더 오래된 백업에서 복원했을 때 씁니다(`longwatch reindex`도 이 일을 합니다). "
        "미러가 서명된 모든 체크포인트와 맞는 끊김 없는 하나의 체인이 아니거나, 데이터베이스에 남아 있는 내용과 "
        "다르면 거부합니다.",
}
