"""Korean translations for the export proofs of issue 21: anchors, added files, Payload-Oxum, VERIFY.txt, reports."""

KO = {
    "bag-info.txt's Payload-Oxum says {expected} (bytes.files) but the payload is {found}: a file was "
    "added, removed or changed":
        "bag-info.txt의 Payload-Oxum은 {expected}(바이트.파일 수)이지만 실제 자료는 {found}입니다: 파일이 추가되거나 "
        "삭제되거나 바뀌었습니다",
    "{path} is missing: --tsa-cert asks for a time-stamp token, and this export has none":
        "{path}이(가) 없습니다: --tsa-cert는 타임스탬프 토큰을 요구하지만 이 내보내기 자료에는 토큰이 없습니다",
    "{value!r} is not a SHA-256 certificate fingerprint: give 64 hexadecimal digits (colons and a "
    "SHA256: prefix are allowed), as `openssl x509 -noout -fingerprint -sha256` prints it":
        "{value!r}은(는) SHA-256 인증서 지문이 아닙니다: `openssl x509 -noout -fingerprint -sha256`이 출력하는 "
        "것처럼 16진수 64자리를 입력하십시오 (콜론과 SHA256: 접두어는 허용됩니다)",
    "the export was signed by {fingerprint}, which is none of the fingerprints given ({given})":
        "내보내기 자료의 서명자는 {fingerprint}이며, 입력한 지문({given}) 중 어느 것과도 일치하지 않습니다",
    "the published checkpoint {path} does not anchor this export: {detail}":
        "공개된 체크포인트 {path}(으)로 이 내보내기 자료를 확인할 수 없습니다: {detail}",
    "UNANCHORED: export {export_id} is consistent ({files} files, {proofs} custody entries proven against a "
    "signed checkpoint of {size} entries{ts}), but nothing from outside the export confirms its signer {signer}: "
    "the export carries its own certificate, so a remade export would pass too. Compare the fingerprint with the "
    "one the archive publishes, then check again with --fingerprint, --cert or --checkpoint.":
        "외부 기준 없음(UNANCHORED): 내보내기 자료 {export_id}은(는) 내부적으로 일관됩니다 (파일 {files}개, 관리 연속성 "
        "항목 {proofs}개가 항목 {size}개의 서명된 체크포인트에 대해 증명됨{ts}). 그러나 내보내기 자료 밖의 어떤 것도 "
        "서명자 {signer}를 확인해 주지 않습니다: 내보내기 자료가 자기 인증서를 함께 담고 있으므로 새로 꾸며 낸 자료도 "
        "이 검사를 통과합니다. 지문을 아카이브가 공개한 지문과 비교한 뒤 --fingerprint, --cert 또는 "
        "--checkpoint로 다시 확인하십시오.",
    "Compare the signer's fingerprint {fingerprint} and the checkpoint ({size} entries, root {root}) "
    "with {where}, never with values written in this export: the export carries its own "
    "certificate, so only a comparison outside it shows that the archive made it.":
        "서명자의 지문 {fingerprint}와 체크포인트(항목 {size}개, 루트 {root})를 {where}과 비교하십시오. 이 내보내기 자료 "
        "안에 적힌 값과 비교해서는 안 됩니다: 내보내기 자료가 자기 인증서를 함께 담고 있으므로, 자료 밖에서 비교해야만 "
        "아카이브가 만든 것임이 확인됩니다.",
    "the list of certificates and checkpoints the archive publishes at {url}":
        "아카이브가 {url}에 공개하는 인증서·체크포인트 목록",
    "the values the archive gives you through another channel (an official letter, a telephone "
    "call, or /.well-known/longwatch/anchors.json on its public website)":
        "아카이브가 다른 경로(공문, 전화 또는 공개 웹사이트의 /.well-known/longwatch/anchors.json)로 알려 주는 값",
    "withheld: about another recipient (proven by its hash)":
        "비공개: 다른 수령자에 관한 항목 (해시로 증명됨)",
    "gap in {camera}: {start} to {end}": "{camera}의 녹화 공백: {start}부터 {end}까지",
    # PREMIS event types and outcomes in the report's custody timeline
}
