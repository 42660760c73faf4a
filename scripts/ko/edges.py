"""Korean translations of the messages about the archive's edges: ingest sources, uploads, disposal, input."""

KO = {
    "{path} is a symbolic link; it was not followed and nothing was archived: give the file it points "
    "to, or pass --follow-symlinks":
        "{path}은(는) 심볼릭 링크이므로 따라가지 않았고 아무것도 보존하지 않았습니다: 링크가 가리키는 파일을 직접 지정하거나 "
        "--follow-symlinks를 지정하십시오",
    "{path} is a {kind}, not a regular file; nothing was archived: only regular files are preserved":
        "{path}은(는) 일반 파일이 아닌 {kind}이므로 아무것도 보존하지 않았습니다: 일반 파일만 보존합니다",
    "Archive the files symbolic links point to (links are refused by default).":
        "심볼릭 링크가 가리키는 파일을 보존합니다 (기본값은 링크를 거부합니다).",
    "there is no room for an upload of {needed} more bytes ({free} bytes free, {reserve} kept in "
    "reserve); nothing was stored: try again later, or ask an administrator to free space":
        "업로드의 남은 {needed}바이트를 받을 공간이 없습니다 (여유 {free}바이트, 예비 {reserve}바이트). 아무것도 "
        "저장하지 않았습니다: 나중에 다시 시도하거나 관리자에게 공간 확보를 요청하십시오",
    "Every byte arrived; making the package…": "모든 바이트를 받았습니다. 패키지를 만드는 중입니다…",
    "Viewing caches (poster frames, access copies): {files} files, {size}":
        "보기용 캐시 (포스터 프레임, 열람용 사본): 파일 {files}개, {size}",
    "package {package_id}: the copy on {location!r} could not be checked, its store failed: {detail}; "
    "the audit went on with the other copies and checks this one again next time":
        "패키지 {package_id}: {location!r}의 사본은 저장소 오류로 검사하지 못했습니다: {detail}. 감사는 다른 사본을 "
        "계속 검사했으며 이 사본은 다음 감사에서 다시 검사합니다",
}
