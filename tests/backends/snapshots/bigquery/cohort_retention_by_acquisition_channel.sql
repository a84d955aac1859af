WITH `t6` AS (
  SELECT
    `t2`.`order_id`,
    `t2`.`customer_id`,
    `t2`.`ordered_at`,
    `t2`.`status`,
    `t2`.`channel`,
    `t2`.`subtotal`,
    `t2`.`discount`,
    `t2`.`shipping_fee`,
    `t2`.`points_used`,
    `t2`.`total`,
    `t2`.`points_earned`,
    `t2`.`coupon_code`,
    `t2`.`subscription_id`,
    `t2`.`payment_method`,
    `t2`.`shipping_prefecture`,
    `t2`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t2`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t2`
  WHERE
    `t2`.`status` = 'completed'
    AND `t2`.`customer_id` IS NOT NULL
    AND `t2`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
), `t10` AS (
  SELECT
    `t9`.`customer_id`,
    `t9`.`first_date`,
    DATE_TRUNC(`t9`.`first_date`, MONTH) AS `cohort_month`,
    (
      (
        EXTRACT(year FROM `t9`.`first_date`) * 12
      ) + EXTRACT(month FROM `t9`.`first_date`)
    ) - 1 AS `cohort_idx`
  FROM (
    SELECT
      `t7`.`customer_id`,
      MIN(`t7`.`order_date`) AS `first_date`
    FROM `t6` AS `t7`
    GROUP BY
      1
  ) AS `t9`
)
SELECT
  `t24`.`acquisition_channel`,
  `t24`.`months_since`,
  `t24`.`cohort_size`,
  `t24`.`customers`,
  `t24`.`revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t24`.`customers` AS FLOAT64), NULLIF(`t24`.`cohort_size`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `retention_rate`
FROM (
  SELECT
    `t19`.`acquisition_channel`,
    `t19`.`months_since`,
    `t19`.`cohort_size`,
    COALESCE(`t23`.`customers`, 0) AS `customers`,
    COALESCE(`t23`.`revenue`, 0) AS `revenue`
  FROM (
    SELECT
      `t16`.`acquisition_channel`,
      `t16`.`months_since`,
      COUNT(`t16`.`customer_id`) AS `cohort_size`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t12`.`customer_id`,
          `t12`.`first_date`,
          `t12`.`cohort_month`,
          `t12`.`cohort_idx`,
          `t5`.`acquisition_channel`,
          `t3`.`months_since`
        FROM `t10` AS `t12`
        INNER JOIN (
          SELECT
            `t1`.`customer_id`,
            COALESCE(`t1`.`acquisition_channel`, '(不明)') AS `acquisition_channel`
          FROM `customers` AS `t1`
        ) AS `t5`
          ON `t12`.`customer_id` = `t5`.`customer_id`
        CROSS JOIN `memtable_1` AS `t3`
      ) AS `t14`
      WHERE
        (
          `t14`.`cohort_idx` + `t14`.`months_since`
        ) <= (
          (
            (
              EXTRACT(year FROM DATE(2026, 10, 31)) * 12
            ) + EXTRACT(month FROM DATE(2026, 10, 31))
          ) - 1
        )
    ) AS `t16`
    GROUP BY
      1,
      2
  ) AS `t19`
  LEFT OUTER JOIN (
    SELECT
      `t21`.`acquisition_channel`,
      `t21`.`months_since`,
      COUNT(DISTINCT `t21`.`customer_id`) AS `customers`,
      SUM(`t21`.`total`) AS `revenue`
    FROM (
      SELECT
        `t20`.`order_id`,
        `t20`.`customer_id`,
        `t20`.`ordered_at`,
        `t20`.`status`,
        `t20`.`channel`,
        `t20`.`subtotal`,
        `t20`.`discount`,
        `t20`.`shipping_fee`,
        `t20`.`points_used`,
        `t20`.`total`,
        `t20`.`points_earned`,
        `t20`.`coupon_code`,
        `t20`.`subscription_id`,
        `t20`.`payment_method`,
        `t20`.`shipping_prefecture`,
        `t20`.`is_gift`,
        `t20`.`order_date`,
        `t20`.`first_date`,
        `t20`.`cohort_month`,
        `t20`.`cohort_idx`,
        `t20`.`months_since`,
        `t5`.`acquisition_channel`
      FROM (
        SELECT
          `t15`.`order_id`,
          `t15`.`customer_id`,
          `t15`.`ordered_at`,
          `t15`.`status`,
          `t15`.`channel`,
          `t15`.`subtotal`,
          `t15`.`discount`,
          `t15`.`shipping_fee`,
          `t15`.`points_used`,
          `t15`.`total`,
          `t15`.`points_earned`,
          `t15`.`coupon_code`,
          `t15`.`subscription_id`,
          `t15`.`payment_method`,
          `t15`.`shipping_prefecture`,
          `t15`.`is_gift`,
          `t15`.`order_date`,
          `t15`.`first_date`,
          `t15`.`cohort_month`,
          `t15`.`cohort_idx`,
          (
            (
              (
                EXTRACT(year FROM `t15`.`order_date`) * 12
              ) + EXTRACT(month FROM `t15`.`order_date`)
            ) - 1
          ) - `t15`.`cohort_idx` AS `months_since`
        FROM (
          SELECT
            `t8`.`order_id`,
            `t8`.`customer_id`,
            `t8`.`ordered_at`,
            `t8`.`status`,
            `t8`.`channel`,
            `t8`.`subtotal`,
            `t8`.`discount`,
            `t8`.`shipping_fee`,
            `t8`.`points_used`,
            `t8`.`total`,
            `t8`.`points_earned`,
            `t8`.`coupon_code`,
            `t8`.`subscription_id`,
            `t8`.`payment_method`,
            `t8`.`shipping_prefecture`,
            `t8`.`is_gift`,
            `t8`.`order_date`,
            `t13`.`first_date`,
            `t13`.`cohort_month`,
            `t13`.`cohort_idx`
          FROM `t6` AS `t8`
          INNER JOIN `t10` AS `t13`
            ON `t8`.`customer_id` = `t13`.`customer_id`
        ) AS `t15`
      ) AS `t20`
      INNER JOIN (
        SELECT
          `t1`.`customer_id`,
          COALESCE(`t1`.`acquisition_channel`, '(不明)') AS `acquisition_channel`
        FROM `customers` AS `t1`
      ) AS `t5`
        ON `t20`.`customer_id` = `t5`.`customer_id`
    ) AS `t21`
    GROUP BY
      1,
      2
  ) AS `t23`
    ON `t19`.`acquisition_channel` = `t23`.`acquisition_channel`
    AND `t19`.`months_since` = `t23`.`months_since`
) AS `t24`
ORDER BY
  `t24`.`acquisition_channel` ASC NULLS LAST,
  `t24`.`months_since` ASC NULLS LAST
