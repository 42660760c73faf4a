"""Korean translations for issue 21, item 1: the command line acts for authenticated accounts."""

KO = {
    # errors
    "the OS user {os_user} is not signed in to this archive: run `longwatch login`, or an administrator "
    "maps the OS user to an account (`longwatch users map-os-user {os_user} ACCOUNT`)":
        "운영체제 사용자 {os_user}은(는) 이 아카이브에 로그인하지 않았습니다: `longwatch login`을 실행하거나, "
        "관리자가 이 운영체제 사용자를 계정에 연결하십시오 (`longwatch users map-os-user {os_user} ACCOUNT`)",
    "the stored sign-in of {os_user} no longer opens this archive (expired, revoked or the account is "
    "disabled): run `longwatch login` again":
        "{os_user}의 저장된 로그인으로는 더 이상 이 아카이브를 열 수 없습니다 (만료, 취소 또는 계정 비활성화): "
        "`longwatch login`을 다시 실행하십시오",
    "package {package_id} was not deleted: a deletion needs a second records manager's approval. It is "
    "proposed as disposition {disposition_id}; another records manager approves it with "
    "`longwatch dispose approve {disposition_id}`, then `longwatch dispose execute {disposition_id}` "
    "deletes it":
        "패키지 {package_id}는 삭제되지 않았습니다: 삭제에는 다른 기록관리 담당자의 승인이 필요합니다. "
        "처분 {disposition_id}(으)로 제안되었습니다. 다른 기록관리 담당자가 "
        "`longwatch dispose approve {disposition_id}`로 승인하면 `longwatch dispose execute {disposition_id}`로 "
        "삭제합니다",
    "package {package_id} is already in disposition {disposition_id} ({status})":
        "패키지 {package_id}는 이미 처분 {disposition_id}에 들어 있습니다 ({status})",
    # commands
    "OS user {os_user} now acts as {username}.":
        "운영체제 사용자 {os_user}은(는) 이제 {username} 계정으로 작업합니다.",
    "OS user {os_user} no longer acts as {username}.":
        "운영체제 사용자 {os_user}은(는) 더 이상 {username} 계정으로 작업하지 않습니다.",
    "Signed in as {username} ({role}).": "{username}({role})(으)로 로그인했습니다.",
    "Signed out.": "로그아웃했습니다.",
    "Not signed in.": "로그인되어 있지 않습니다.",
    "{username} ({role}), for OS user {os_user} ({by})":
        "{username} ({role}), 운영체제 사용자 {os_user} ({by})",
    "First administrator: account {username}, used by the OS user {os_user}; give it a password for the web "
    "with `longwatch users passwd {username}`.":
        "첫 관리자: {username} 계정이며 운영체제 사용자 {os_user}이(가) 사용합니다. 웹에서 쓸 비밀번호는 "
        "`longwatch users passwd {username}`로 정하십시오.",
    "No account was created: create the first administrator with `longwatch users add NAME --role "
    "administrator`.":
        "계정을 만들지 않았습니다: `longwatch users add NAME --role administrator`로 첫 관리자를 만드십시오.",
    "Destruction certificate: {path}": "파기 확인서: {path}",
}
