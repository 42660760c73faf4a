"""Korean translations for `longwatch verify --bagit`: any BagIt bag, checked against BagIt alone (issue 23)."""

KO = {
    "--bagit checks one bag directory: give its path, not a package id and not --all":
        "--bagit은 백 디렉터리 하나를 검사합니다: 패키지 ID나 --all이 아니라 디렉터리 경로를 지정하십시오",
    "bagit.txt is not a valid BagIt declaration: {detail}": "bagit.txt가 올바른 BagIt 선언이 아닙니다: {detail}",
    "the bag declares BagIt version {version}; only versions 0.93 to 1.0 can be checked":
        "백이 BagIt 버전 {version}을(를) 선언합니다. 버전 0.93부터 1.0까지만 검사할 수 있습니다",
    "{path}: cannot be read in the bag's declared character encoding {encoding}: {detail}":
        "{path}: 백이 선언한 문자 인코딩 {encoding}(으)로 읽을 수 없습니다: {detail}",
    "{path}: line {line} names the path {entry!r}, which is not safe: {detail}; it was not opened":
        "{path}: {line}번째 줄의 경로 {entry!r}은(는) 안전하지 않습니다: {detail}. 이 경로는 열지 않았습니다",
    "{path}: {entry!r} is listed more than once": "{path}: {entry!r}이(가) 두 번 이상 나옵니다",
    "the bag has no payload manifest (manifest-ALGORITHM.txt)":
        "백에 페이로드 매니페스트(manifest-ALGORITHM.txt)가 없습니다",
    "{path}: is listed in fetch.txt but not present, so the bag is not complete; fetch it first "
    "(longwatch never downloads)":
        "{path}: fetch.txt에 있지만 파일이 없으므로 백이 완전하지 않습니다. 먼저 파일을 받아 두십시오 "
        "(longwatch는 내려받지 않습니다)",
    "fetch.txt line {line} is malformed: {detail}": "fetch.txt {line}번째 줄의 형식이 잘못되었습니다: {detail}",
    "{path}: line {line} writes its path in a non-standard form ({detail}); it was read without it":
        "{path}: {line}번째 줄의 경로가 표준이 아닌 형식으로 쓰여 있습니다 ({detail}). 그 부분을 빼고 읽었습니다",
    "{entry!r} and {other!r} differ only in Unicode normalization or in capital letters; some file "
    "systems cannot keep both":
        "{entry!r}와(과) {other!r}은(는) 유니코드 정규화 또는 대소문자만 다릅니다. 둘을 함께 보관하지 못하는 "
        "파일 시스템이 있습니다",
    "{path}: is an operating system's hidden file, probably bagged by accident":
        "{path}: 운영체제의 숨김 파일로, 실수로 백에 넣은 것으로 보입니다",
    "{path}: line {line} is malformed: {detail}": "{path}: {line}번째 줄의 형식이 잘못되었습니다: {detail}",
    "the bag declares the profile {profile}, which longwatch does not know; its rules were not checked":
        "백이 longwatch가 알지 못하는 프로파일 {profile}을(를) 선언합니다. 그 프로파일의 규칙은 검사하지 않았습니다",
    "{path}: is not listed in {manifest}; every payload manifest must list every payload file":
        "{path}: {manifest}에 없습니다. 모든 페이로드 매니페스트는 모든 페이로드 파일을 나열해야 합니다",
    "VALID {bag}: BagIt {version}; {files} payload files ({size}) match their manifests":
        "정상 {bag}: BagIt {version}, 페이로드 파일 {files}개({size})가 매니페스트와 일치합니다",
    "INVALID {bag}: {count} problems": "실패 {bag}: 문제 {count}건",
    "{count} warnings: worth a look, but not a reason to refuse the bag":
        "경고 {count}건: 살펴볼 만하지만 백을 거부할 이유는 아닙니다",
    "Check the directory TARGET as any BagIt bag (versions 0.93 to 1.0); a profile and a signature only when "
    "the bag declares them.":
        "디렉터리 TARGET을 일반 BagIt 백(버전 0.93부터 1.0까지)으로 검사합니다. 프로파일과 서명은 백이 선언할 때만 "
        "검사합니다.",
    "this bag does not declare longwatch's package profile; `longwatch verify --bagit DIR` checks it against "
    "BagIt alone":
        "이 백은 longwatch의 패키지 프로파일을 선언하지 않습니다. `longwatch verify --bagit DIR`은 BagIt 규칙만으로 "
        "검사합니다",
    "{path} is a BagIt bag that does not verify ({count} problems, the first: {first}); nothing of it was "
    "archived: see every problem with `longwatch verify --bagit {path}`":
        "{path}은(는) 검증되지 않는 BagIt 백입니다 (문제 {count}건, 첫 번째: {first}). 이 백의 어떤 파일도 보존하지 "
        "않았습니다. 모든 문제는 `longwatch verify --bagit {path}`로 확인하십시오",
}
