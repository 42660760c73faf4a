"""Korean translations, kept as data and merged into locale/ko/LC_MESSAGES/longwatch.po by `make i18n`."""

KO = {
    "Created archive {path}": "아카이브를 만들었습니다: {path}",
    "Signing certificate: {path} ({fingerprint})": "서명 인증서: {path} ({fingerprint})",
    "Keep a copy of the key {path} somewhere safe.": "서명 키 {path}의 사본을 안전한 곳에 보관하십시오.",
    "WARNING {message}": "경고 {message}",
    "{package_id}  {path}  {size}  sha256:{sha256}": "{package_id}  {path}  {size}  sha256:{sha256}",
    "verifying {name}": "{name} 검증 중",
    "{count} packages verified, {bad} with problems": "패키지 {count}개 검증, 문제 있음 {bad}개",
    "fast check": "빠른 검사",
    "{files} files, {size} digested": "파일 {files}개, {size} 해시 검사",
    "OK {package}: {mode}; signed by {signer}": "정상 {package}: {mode}; 서명자 {signer}",
    "FAILED {package}: {count} problems": "실패 {package}: 문제 {count}건",
    "NOTE {message}": "참고 {message}",
    "id": "ID",
    "camera": "카메라",
    "start": "시작",
    "duration": "길이",
    "size": "크기",
    "title": "제목",
    "package": "패키지",
    "zone": "구역",
    "place": "장소",
    "recorded": "녹화 시각",
    "position": "좌표",
    "stored in": "저장 위치",
    "signer": "서명자",
    "file": "파일",
    "format": "형식",
    "sha256": "SHA-256",
    "Files": "파일",
    "time": "시각",
    "event": "이벤트",
    "outcome": "결과",
    "detail": "상세",
    "PREMIS events": "PREMIS 이벤트",
    "plugin": "플러그인",
    "distribution": "배포판",
    "version": "버전",
    "hooks": "훅",
    "The catalog is up to date.": "카탈로그가 최신 상태입니다.",
    "Serving {name} on http://{host}:{port}/": "{name} 웹 화면을 http://{host}:{port}/ 에서 제공합니다",
    "ffprobe could not read {name} ({error}); it is preserved bit for bit with a failed validation event":
        "ffprobe가 {name}을(를) 읽지 못했습니다({error}). 원본 그대로 보존하고 검증 실패 이벤트를 기록했습니다",
    "the signer was not compared with a trusted certificate (use --cert)":
        "서명자를 신뢰하는 인증서와 비교하지 않았습니다(--cert 사용)",
    # errors
    "no archive found: pass -A DIR, set LONGWATCH_ARCHIVE, or run `longwatch init DIR` first":
        "아카이브를 찾을 수 없습니다: -A DIR을 지정하거나 LONGWATCH_ARCHIVE를 설정하거나 먼저 `longwatch init DIR`을 실행하십시오",
    "{path} already holds an archive; choose an empty directory":
        "{path}에는 이미 아카이브가 있습니다. 빈 디렉터리를 선택하십시오",
    "the configuration {path} is invalid: {detail}": "설정 파일 {path}이(가) 올바르지 않습니다: {detail}",
    "the catalog could not be opened or updated: {detail}": "카탈로그를 열거나 갱신할 수 없습니다: {detail}",
    "say what to verify: a package id, a package directory, or --all":
        "검증할 대상을 지정하십시오: 패키지 ID, 패키지 디렉터리 또는 --all",
    "{path} is empty (0 bytes): there is nothing to preserve": "{path}은(는) 빈 파일(0바이트)이라 보존할 내용이 없습니다",
    "{path} does not exist or is not a regular file": "{path}이(가) 없거나 일반 파일이 아닙니다",
    "the time {value!r} is not ISO 8601 with Z or an offset (e.g. 2026-03-03T14:00:00+09:00)":
        "시각 {value!r}이(가) Z나 시차를 포함한 ISO 8601 형식이 아닙니다(예: 2026-03-03T14:00:00+09:00)",
    "the location {value!r} is not LAT,LON in decimal degrees (e.g. 37.5665,126.9780)":
        "위치 {value!r}이(가) 십진수 도 단위의 위도,경도 형식이 아닙니다(예: 37.5665,126.9780)",
    "the sidecar {path} is invalid: {detail}": "사이드카 파일 {path}이(가) 올바르지 않습니다: {detail}",
    "{path} is already archived as package {package_id} (same SHA-256); pass --allow-duplicate to archive it again":
        "{path}은(는) 이미 패키지 {package_id}로 보존되어 있습니다(SHA-256 동일). 다시 보존하려면 --allow-duplicate를 지정하십시오",
    "{path} could not be read: {detail}": "{path}을(를) 읽을 수 없습니다: {detail}",
    "no package {package_id} in this archive": "이 아카이브에 패키지 {package_id}이(가) 없습니다",
    "the camera id {value!r} is invalid: use letters, digits, '.', '_' or '-' (at most 64)":
        "카메라 ID {value!r}이(가) 올바르지 않습니다: 영문자, 숫자, '.', '_', '-'만 최대 64자까지 사용할 수 있습니다",
    "the signing key {path} could not be loaded: {detail}": "서명 키 {path}을(를) 불러올 수 없습니다: {detail}",
    "the certificate {path} does not belong to the signing key": "인증서 {path}이(가) 서명 키와 짝이 맞지 않습니다",
    "the certificate {path} could not be loaded: {detail}": "인증서 {path}을(를) 불러올 수 없습니다: {detail}",
    "two plugins register the storage adapter {name!r}: {first} and {second}":
        "두 플러그인이 같은 저장소 어댑터 {name!r}을(를) 등록합니다: {first}, {second}",
    "no storage adapter {name!r} is installed; installed: {available}":
        "저장소 어댑터 {name!r}이(가) 설치되어 있지 않습니다. 설치된 어댑터: {available}",
    "a plugin is broken: {detail}": "플러그인에 오류가 있습니다: {detail}",
    "storage location {location!r} has no room left; nothing was deleted to make room: {detail}":
        "저장 위치 {location!r}에 남은 공간이 없습니다. 공간 확보를 위해 아무것도 삭제하지 않았습니다: {detail}",
    "storage location {location!r} failed: {detail}": "저장 위치 {location!r}에서 오류가 발생했습니다: {detail}",
    "{key!r} is not a safe storage key": "{key!r}은(는) 안전한 저장소 키가 아닙니다",
    "{tool} is not installed; `make demo` installs it (Debian package {package})":
        "{tool}이(가) 설치되어 있지 않습니다. `make demo`가 설치합니다(데비안 패키지 {package})",
    "{path}: not a BagIt bag: {detail}": "{path}: BagIt 백이 아닙니다: {detail}",
    "{path}: payload file listed in the manifest is missing": "{path}: 매니페스트에 있는 페이로드 파일이 없습니다",
    "{path}: payload file is not listed in the manifest": "{path}: 매니페스트에 없는 페이로드 파일입니다",
    "{path}: {algorithm} mismatch: expected {expected}, found {found}":
        "{path}: {algorithm} 불일치: 기대값 {expected}, 실제값 {found}",
    "{path}: tag file is missing": "{path}: 태그 파일이 없습니다",
    "{path}: tag file {algorithm} mismatch: expected {expected}, found {found}":
        "{path}: 태그 파일 {algorithm} 불일치: 기대값 {expected}, 실제값 {found}",
    "{path}: the signature is missing": "{path}: 서명이 없습니다",
    "{path}: the signature does not verify: {detail}": "{path}: 서명 검증에 실패했습니다: {detail}",
    "{path}: the signer is not a trusted certificate ({fingerprint})":
        "{path}: 서명자가 신뢰하는 인증서가 아닙니다({fingerprint})",
    "{path}: not valid against the {schema} schema: {detail}": "{path}: {schema} 스키마에 맞지 않습니다: {detail}",
    "{path}: refused XML: {detail}": "{path}: 허용하지 않는 XML입니다: {detail}",
    "{path}: is a symbolic link; a package holds regular files only, so it was not followed":
        "{path}: 심볼릭 링크입니다. 패키지에는 일반 파일만 들어 있어야 하므로 따라가지 않았습니다",
    "Payload-Oxum says {expected}, the payload is {found}": "Payload-Oxum은 {expected}인데 실제 페이로드는 {found}입니다",
    "{path}: manifest line {line} is malformed or names an unsafe path: {detail}":
        "{path}: 매니페스트 {line}번째 줄의 형식이 잘못되었거나 안전하지 않은 경로입니다: {detail}",
    "the bag does not conform to its profile: {detail}": "백이 프로파일을 따르지 않습니다: {detail}",
    "{path}: PREMIS records {algorithm} {expected} but the manifest says {found}":
        "{path}: PREMIS에는 {algorithm} {expected}로 기록되어 있으나 매니페스트에는 {found}로 되어 있습니다",
    "{path}: tag file is not listed in the tag manifests, so the signature does not cover it":
        "{path}: 태그 매니페스트에 없는 태그 파일이라 서명으로 보호되지 않습니다",
    "package {package_id} is in the catalog but not on storage location {location!r}":
        "패키지 {package_id}이(가) 카탈로그에는 있으나 저장 위치 {location!r}에는 없습니다",
    "{path}: not well-formed XML: {detail}": "{path}: 올바른 형식의 XML이 아닙니다: {detail}",
    # custody ledger (issue 4)
    "No custody events for {package_id}.": "{package_id}의 관리 이력(chain of custody) 이벤트가 없습니다.",
    "seq": "순번",
    "by": "수행자",
    "Custody of {package_id}": "{package_id}의 관리 이력",
    "verifying the custody ledger": "관리 이력 원장 검증 중",
    "OK custody ledger: {entries} entries, {checkpoints} checkpoints ({timestamps} time-stamped), {saved} saved checkpoints matched":
        "정상 관리 이력 원장: 항목 {entries}개, 체크포인트 {checkpoints}개(타임스탬프 {timestamps}개), 따로 보관한 체크포인트 {saved}개 일치",
    "FAILED custody ledger: {count} problems": "실패 관리 이력 원장: 문제 {count}건",
    "Checkpoint of {size} entries, root {root}, {time}": "항목 {size}개의 체크포인트, 루트 {root}, {time}",
    "Saved {count} checkpoints to {path}": "체크포인트 {count}개를 {path}에 저장했습니다",
    "entries": "항목 수",
    "root hash": "루트 해시",
    "time-stamp": "타임스탬프",
    "yes": "예",
    "OK the proof holds: signed tree of {size} entries, root {root}":
        "정상 증명이 성립합니다: 서명된 트리 항목 {size}개, 루트 {root}",
    "ledger segment {segment} at byte {offset}: not a readable entry: {detail}":
        "원장 세그먼트 {segment}의 {offset}바이트 위치: 읽을 수 있는 항목이 아닙니다: {detail}",
    "ledger segment {segment} at byte {offset}: entry has seq {found} where {expected} was expected: an entry was deleted, reordered or inserted":
        "원장 세그먼트 {segment}의 {offset}바이트 위치: 순번 {expected}이어야 할 항목의 순번이 {found}입니다. 항목이 삭제되었거나 순서가 바뀌었거나 끼워 넣어졌습니다",
    "ledger entry {seq}: its prev hash does not match the entry before it: the chain is broken (an earlier entry was changed, removed or reordered)":
        "원장 항목 {seq}: 이전 해시가 앞 항목과 맞지 않아 체인이 끊어졌습니다(앞 항목이 변경·삭제되었거나 순서가 바뀜)",
    "ledger entry {seq} differs from what the catalog index recorded when it was written: it was edited":
        "원장 항목 {seq}이(가) 기록 당시 카탈로그 색인에 남긴 내용과 다릅니다: 수정되었습니다",
    "ledger entries {first}..{last} are in the segments but not in the catalog index: they were not written by longwatch (forged), or the catalog was restored from a backup; run `longwatch custody verify`":
        "원장 항목 {first}..{last}이(가) 세그먼트에는 있으나 카탈로그 색인에는 없습니다. longwatch가 쓴 것이 아니거나(위조) 카탈로그를 백업에서 복원했습니다. `longwatch custody verify`를 실행하십시오",
    "ledger entries {first}..{last} are in the catalog index but missing from the segments: they were deleted or the ledger was truncated":
        "원장 항목 {first}..{last}이(가) 카탈로그 색인에는 있으나 세그먼트에는 없습니다: 삭제되었거나 원장이 잘렸습니다",
    "checkpoint {checkpoint}: the signature does not verify: {detail}": "체크포인트 {checkpoint}: 서명 검증에 실패했습니다: {detail}",
    "checkpoint {checkpoint}: signed by {fingerprint}, which is not the trusted certificate":
        "체크포인트 {checkpoint}: 서명자 {fingerprint}은(는) 신뢰하는 인증서가 아닙니다",
    "checkpoint {checkpoint}: it signs root {expected} but the ledger's tree at that size has root {found}: the ledger was rewritten":
        "체크포인트 {checkpoint}: 서명된 루트는 {expected}인데 같은 크기의 원장 트리 루트는 {found}입니다: 원장이 다시 쓰였습니다",
    "checkpoint {checkpoint} covers {size} entries but the ledger holds only {found}: it was truncated":
        "체크포인트 {checkpoint}은(는) 항목 {size}개를 포함하지만 원장에는 {found}개뿐입니다: 원장이 잘렸습니다",
    "checkpoint {checkpoint}: the time-stamp token does not verify: {detail}":
        "체크포인트 {checkpoint}: 타임스탬프 토큰 검증에 실패했습니다: {detail}",
    "checkpoint {checkpoint}: the time-stamp token is for other data: {detail}":
        "체크포인트 {checkpoint}: 타임스탬프 토큰이 다른 데이터에 대한 것입니다: {detail}",
    "the inclusion proof of entry {seq} does not verify: {detail}": "항목 {seq}의 포함 증명 검증에 실패했습니다: {detail}",
    "the consistency proof from {first} to {second} entries does not verify: {detail}":
        "항목 {first}개에서 {second}개로의 일관성 증명 검증에 실패했습니다: {detail}",
    "{value!r} is not a PREMIS event type of longwatch's vocabulary (longwatch/core/vocabulary.py)":
        "{value!r}은(는) longwatch 어휘(longwatch/core/vocabulary.py)의 PREMIS 이벤트 유형이 아닙니다",
    "{value!r} is not a valid outcome (success, failure, warning) or agent role for a ledger event":
        "{value!r}은(는) 원장 이벤트의 올바른 결과(success, failure, warning)나 행위자 역할이 아닙니다",
    "no ledger entry {entry}: give a sequence number or an event id": "원장 항목 {entry}이(가) 없습니다: 순번이나 이벤트 ID를 지정하십시오",
    "no checkpoint of {checkpoint} entries: list them with `longwatch custody checkpoints`":
        "항목 {checkpoint}개의 체크포인트가 없습니다: `longwatch custody checkpoints`로 목록을 확인하십시오",
    "the time-stamp authority failed: {detail}; the checkpoint is signed but carries no time-stamp":
        "타임스탬프 기관(TSA) 요청이 실패했습니다: {detail}. 체크포인트는 서명되었으나 타임스탬프가 없습니다",
    "{path}: not a longwatch proof or checkpoint file: {detail}": "{path}: longwatch 증명 파일이나 체크포인트 파일이 아닙니다: {detail}",
    "saved checkpoint of {size} entries ({source}) signs root {expected} but the ledger now has {found}: the ledger was rewritten after that checkpoint was saved":
        "따로 보관한 항목 {size}개의 체크포인트({source})는 루트 {expected}에 서명했으나 지금 원장의 루트는 {found}입니다: 그 체크포인트를 보관한 뒤 원장이 다시 쓰였습니다",
    "the custody ledger is empty: there is nothing to checkpoint or prove yet": "관리 이력 원장이 비어 있어 체크포인트나 증명을 만들 수 없습니다",
    "checkpoint file {name}: {detail}": "체크포인트 파일 {name}: {detail}",
    # web
    "Packages": "패키지",
    "{count} packages, {size} bytes of footage, each a signed BagIt package.":
        "패키지 {count}개, 영상 {size}바이트. 모두 서명된 BagIt 패키지입니다.",
    "unreadable media, preserved as received": "재생할 수 없는 영상, 받은 그대로 보존",
    "No packages yet. Archive footage with `longwatch ingest FILE`.":
        "아직 패키지가 없습니다. `longwatch ingest FILE`로 영상을 보존하십시오.",
    # -- retention, legal holds and disposition (issue 6) --
    "the retention schedule {path} is invalid: {detail}": "보존기간 책정표 {path}이(가) 올바르지 않습니다: {detail}",
    "storage location {location!r} is full ({free} bytes free, {needed} needed, {reserve} kept in reserve); "
    "nothing was written and nothing was deleted: add storage, or let a records manager run "
    "`longwatch retention purge --emergency` (expired, unheld continuous footage only)":
        "저장 위치 {location!r}이(가) 가득 찼습니다 (여유 {free}바이트, 필요 {needed}바이트, 예비 {reserve}바이트). "
        "아무것도 쓰거나 지우지 않았습니다. 저장 공간을 늘리거나, 기록관리 담당자가 "
        "`longwatch retention purge --emergency`를 실행하십시오 (보존기간이 지나고 보류되지 않은 상시 녹화 영상만).",
    "package {package_id} is under legal hold {hold_id} ({reason}); nothing was deleted: "
    "the hold must be released first (`longwatch hold release`)":
        "패키지 {package_id}은(는) 법적 보존 조치 {hold_id}({reason}) 대상입니다. 아무것도 지우지 않았습니다. "
        "먼저 보존 조치를 해제해야 합니다 (`longwatch hold release`).",
    "{user} proposed disposition {disposition_id} and cannot approve it: "
    "a second person with the records-manager role must approve":
        "{user}은(는) 폐기 건 {disposition_id}을(를) 제안했으므로 승인할 수 없습니다. "
        "기록관리 담당자 역할을 가진 다른 사람이 승인해야 합니다.",
    "approving a disposition needs the records-manager role; {user} acts as {role!r}":
        "폐기 승인에는 기록관리 담당자(records-manager) 역할이 필요합니다. {user}의 역할은 {role!r}입니다.",
    "disposition {disposition_id} is {status}; this step needs it {expected}":
        "폐기 건 {disposition_id}의 상태는 {status}입니다. 이 단계는 {expected} 상태여야 합니다.",
    "no disposition {disposition_id}; list them with `longwatch dispose list`":
        "폐기 건 {disposition_id}이(가) 없습니다. `longwatch dispose list`로 목록을 보십시오.",
    "no legal hold {hold_id}; list them with `longwatch hold list`":
        "법적 보존 조치 {hold_id}이(가) 없습니다. `longwatch hold list`로 목록을 보십시오.",
    "a hold covers exactly one target: --package ID, --case ID, --camera ID with --from and --to "
    "(from before to), or --search KEY=VALUE":
        "보존 조치 대상은 하나만 지정합니다: --package ID, --case ID, --from과 --to를 함께 쓴 --camera ID "
        "(from이 to보다 앞), 또는 --search KEY=VALUE",
    "say who acts: --as USER --role ROLE, or set LONGWATCH_USER and LONGWATCH_ROLE":
        "누가 수행하는지 밝히십시오: --as USER --role ROLE, 또는 LONGWATCH_USER와 LONGWATCH_ROLE 설정",
    "the role {role!r} is unknown; use one of {roles}": "역할 {role!r}을(를) 알 수 없습니다. 다음 중 하나를 쓰십시오: {roles}",
    "the saved search of a hold is invalid: {detail}": "보존 조치의 저장된 검색이 올바르지 않습니다: {detail}",
    "a hold needs an owner (--owner) and a reason (--reason)":
        "보존 조치에는 요청 기관(--owner)과 사유(--reason)가 필요합니다",
    "legal hold {hold_id} was already released": "법적 보존 조치 {hold_id}은(는) 이미 해제되었습니다",
    "{path}: not a longwatch destruction certificate: {detail}": "{path}: longwatch 폐기 확인서가 아닙니다: {detail}",
    "{path}: the destruction certificate's signature does not verify: {detail}":
        "{path}: 폐기 확인서의 서명을 검증할 수 없습니다: {detail}",
    "Disposition {id} approved by {user}": "폐기 건 {id}을(를) {user}이(가) 승인했습니다",
    "Disposition {id} proposed by {user}; a records manager must approve it: longwatch dispose approve {id}":
        "폐기 건 {id}을(를) {user}이(가) 제안했습니다. 기록관리 담당자의 승인이 필요합니다: "
        "longwatch dispose approve {id}",
    "Due but under legal hold (kept)": "기한이 지났으나 법적 보존 조치 중 (보존)",
    "Due for review or transfer (kept)": "재검토 또는 이관 대상 (보존)",
    "Hold {id} placed": "보존 조치 {id}을(를) 설정했습니다",
    "Hold {id} released": "보존 조치 {id}을(를) 해제했습니다",
    "NOTE no trusted certificate was given (--cert): only the signature was checked":
        "참고: 신뢰할 인증서(--cert)가 없어 서명만 확인했습니다",
    "Nothing is due for destruction.": "파기 기한이 된 기록이 없습니다.",
    "OK destruction certificate {id}: {count} packages; signed by {signer}":
        "정상 폐기 확인서 {id}: 패키지 {count}개, 서명자 {signer}",
    "Package {id} deleted; its tombstone stays in the catalog": "패키지 {id}을(를) 삭제했습니다. 목록에는 삭제 기록이 남습니다",
    "Proposed for destruction": "파기 제안",
    "Schedule {path} is active; {count} assignments changed": "책정표 {path}을(를) 적용했습니다. 지정 {count}건이 바뀌었습니다",
    "Would be destroyed": "파기 예정",
    "approver": "승인자",
    "class": "분류",
    "covers": "대상",
    "day": "일",
    "days": "일",
    "disposition": "폐기 건",
    "hold": "보존 조치",
    "month": "개월",
    "months": "개월",
    "never": "없음",
    "newest": "가장 최근",
    "oldest": "가장 오래된",
    "owner": "요청 기관",
    "packages": "패키지",
    "permanent": "영구",
    "placed": "설정",
    "proposed": "제안",
    "proposer": "제안자",
    "reason": "사유",
    "released": "해제",
    "review": "재검토일",
    "status": "상태",
    "the purge runs only with --emergency": "긴급 삭제는 --emergency를 줄 때만 실행됩니다",
    "year": "년",
    "years": "년",
    "{count} due packages are under legal hold and were left out": "기한이 된 패키지 {count}개는 법적 보존 조치 중이라 제외했습니다",
    "{count} due packages need review or transfer, not destruction": "기한이 된 패키지 {count}개는 파기가 아니라 재검토 또는 이관 대상입니다",
    "{count} expired continuous packages removed": "보존기간이 지난 상시 녹화 패키지 {count}개를 삭제했습니다",
    "{count} packages ({size}) would be destroyed": "패키지 {count}개({size})가 파기됩니다",
    "{count} packages destroyed; certificate {path}": "패키지 {count}개를 파기했습니다. 확인서 {path}",
    "{count} packages kept: a legal hold covers them": "패키지 {count}개는 법적 보존 조치로 보존했습니다",
    "{count} packages kept: no longer due": "패키지 {count}개는 더 이상 기한이 아니어서 보존했습니다",
    "{count} packages of case {case} reassigned": "사건 {case}의 패키지 {count}개를 다시 지정했습니다",
    "{package_id}  class {record_class}  due {due}": "{package_id}  분류 {record_class}  기한 {due}",
}
