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
    # web
    "Packages": "패키지",
    "{count} packages, {size} bytes of footage, each a signed BagIt package.":
        "패키지 {count}개, 영상 {size}바이트. 모두 서명된 BagIt 패키지입니다.",
    "unreadable media, preserved as received": "재생할 수 없는 영상, 받은 그대로 보존",
    "No packages yet. Archive footage with `longwatch ingest FILE`.":
        "아직 패키지가 없습니다. `longwatch ingest FILE`로 영상을 보존하십시오.",
    # storage (issue 12)
    ", at most {rate}/s": ", 초당 최대 {rate}",
    "Audit plan: {copies} copies, {size}, oldest-checked first{budget}": "감사 계획: 사본 {copies}개, {size}, 가장 오래전에 검사한 것부터{budget}",
    "Copies": "사본",
    "FAILED": "실패",
    "OK": "정상",
    "adapter": "어댑터",
    "audit": "감사",
    "cap": "상한",
    "last checked": "마지막 검사",
    "location": "저장 위치",
    "never": "없음",
    "package {package_id}: no good copy is left ({detail}); restore it from a backup or an export, nothing was changed": "패키지 {package_id}: 온전한 사본이 남아 있지 않습니다({detail}). 백업이나 반출본에서 복원하십시오. 아무것도 변경하지 않았습니다",
    "package {package_id}: the copy on {location!r} does not verify after copying: {detail}": "패키지 {package_id}: {location!r}의 사본이 복사 후 검증되지 않습니다: {detail}",
    "package {package_id}: the copy on {location!r} failed its check and could not be repaired: {detail}": "패키지 {package_id}: {location!r}의 사본이 검사에 실패했고 복구할 수 없었습니다: {detail}",
    "packages": "패키지",
    "replication is pending: {error}": "복제가 보류되었습니다: {error}",
    "state": "상태",
    "status": "상태",
    "storage location {location!r} is misconfigured: {detail}; fix it in longwatch.toml": "저장 위치 {location!r}의 설정이 잘못되었습니다: {detail}. longwatch.toml에서 고치십시오",
    "storage location {location!r} is {percent}% full ({used} of {cap} bytes)": "저장 위치 {location!r}가 {percent}% 찼습니다({cap}바이트 중 {used}바이트)",
    "storage location {location!r} still locks {key!r} ({lock}); release the hold or wait for the retention date before disposing of it": "저장 위치 {location!r}가 아직 {key!r}를 잠그고 있습니다({lock}). 폐기하기 전에 보존 조치를 해제하거나 보존 기한까지 기다리십시오",
    "storage location {location!r}: part {part} of {key!r} failed {attempts} times ({detail}); the upload was aborted and nothing was published": "저장 위치 {location!r}: {key!r}의 파트 {part}가 {attempts}번 실패했습니다({detail}). 업로드를 중단했으며 아무것도 게시하지 않았습니다",
    "storage location {location!r}: the bucket {bucket!r} does not exist; create it first": "저장 위치 {location!r}: 버킷 {bucket!r}가 없습니다. 먼저 만드십시오",
    "storage location {location!r}: the bucket {bucket!r} has no object lock; create it with object lock": "저장 위치 {location!r}: 버킷 {bucket!r}에 객체 잠금이 없습니다. 객체 잠금을 켜고 만드십시오",
    "the policy {policy!r} is invalid: {detail}": "정책 {policy!r}가 잘못되었습니다: {detail}",
    "the replication policy names the unknown storage location {location!r}; define it in longwatch.toml": "복제 정책이 알 수 없는 저장 위치 {location!r}를 가리킵니다. longwatch.toml에 정의하십시오",
    "use bytes per second, e.g. 50M": "초당 바이트로 지정하십시오(예: 50M)",
    "used": "사용량",
    "{checked} copies checked ({size}), {bad} failed, {repaired} repaired, {skipped} left for the next run": "사본 {checked}개 검사({size}), 실패 {bad}개, 복구 {repaired}개, 다음 실행으로 넘김 {skipped}개",
    "{package_id} copied to {locations}": "{package_id}를 {locations}에 복사했습니다",
    "{package_id} moved from {old} to {new}": "{package_id}를 {old}에서 {new}로 옮겼습니다",
}
